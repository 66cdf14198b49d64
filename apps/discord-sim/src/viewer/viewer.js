// The simulator's viewer: polls /_sim/state and renders each channel like Discord.
// Everything from messages is untrusted: text goes through textContent, and the
// small Markdown renderer escapes first and only ever adds its own tags.
(() => {
  'use strict';
  const $ = (sel) => document.querySelector(sel);
  let state = null;
  let version = -1;
  let selected = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  function safeUrl(url) {
    return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
  }

  // Discord-flavoured Markdown on escaped text: code, masked links, bare links,
  // bold, underline, italics, strikethrough, quotes, mentions and line breaks.
  function markdown(text, pinged) {
    const held = [];
    const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
    let s = escapeHtml(String(text));
    s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${code}</code>`));
    s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label, url) => hold(`<a href="${url}" target="_blank" rel="noopener noreferrer">${label}</a>`));
    s = s.replace(/https?:\/\/[^\s<]+[^\s<.,:;"')\]]/g, (url) => hold(`<a href="${url}" target="_blank" rel="noopener noreferrer">${url}</a>`));
    s = s.replace(/&lt;@!?(\d{17,20})&gt;/g, (_, id) => hold(`<span class="mention${pinged.users.has(id) ? '' : ' silent'}">@user-${id.slice(-4)}</span>`));
    s = s.replace(/&lt;@&amp;(\d{17,20})&gt;/g, (_, id) => hold(`<span class="mention${pinged.roles.has(id) ? '' : ' silent'}">@role-${id.slice(-4)}</span>`));
    s = s.replace(/@(everyone|here)/g, (_, who) => hold(`<span class="mention${pinged.everyone ? '' : ' silent'}">@${who}</span>`));
    s = s.replace(/\*\*([^*]+?)\*\*/g, '<strong>$1</strong>');
    s = s.replace(/__([^_]+?)__/g, '<u>$1</u>');
    s = s.replace(/(^|[^\w*])\*([^*\n]+?)\*(?!\w)/g, '$1<em>$2</em>');
    s = s.replace(/(^|[^\w])_([^_\n]+?)_(?!\w)/g, '$1<em>$2</em>');
    s = s.replace(/~~([^~]+?)~~/g, '<s>$1</s>');
    s = s.replace(/^&gt; (.*)$/gm, '<span class="quote">│ $1</span>');
    s = s.replace(/\n/g, '<br>');
    return s.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
  }

  function mdNode(tag, cls, text, pinged) {
    const node = el(tag, cls);
    node.innerHTML = markdown(text, pinged || { users: new Set(), roles: new Set(), everyone: false });
    return node;
  }

  function formatTime(iso) {
    const d = new Date(iso);
    const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return d.toDateString() === new Date().toDateString() ? `Today at ${hm}` : `${d.toLocaleDateString()} ${hm}`;
  }

  function colorHex(color) {
    return typeof color === 'number' ? `#${color.toString(16).padStart(6, '0')}` : '#1e1f22';
  }

  function image(url, alt) {
    const src = safeUrl(url);
    if (!src) return null;
    const img = el('img');
    img.src = src;
    img.alt = alt || '';
    img.loading = 'lazy';
    img.referrerPolicy = 'no-referrer';
    return img;
  }

  // Discord shows up to four embeds that share the first one's url as one embed with an image grid.
  function groupEmbeds(embeds) {
    const groups = [];
    for (const embed of embeds) {
      const last = groups[groups.length - 1];
      const onlyImage = embed.image && !embed.title && !embed.description && !(embed.fields && embed.fields.length);
      if (last && embed.url && last.embed.url === embed.url && onlyImage && last.images.length < 4) {
        last.images.push(embed.image.url);
      } else {
        groups.push({ embed, images: embed.image ? [embed.image.url] : [] });
      }
    }
    return groups;
  }

  function renderEmbed({ embed, images }) {
    const box = el('article', 'embed');
    box.style.borderLeftColor = colorHex(embed.color);
    if (embed.author && embed.author.name) {
      const author = el('div', 'embed-author');
      const icon = image(embed.author.icon_url);
      if (icon) author.append(icon);
      const url = safeUrl(embed.author.url);
      if (url) {
        const a = el('a', null, embed.author.name);
        a.href = url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        author.append(a);
      } else author.append(el('span', null, embed.author.name));
      box.append(author);
    }
    if (embed.title) {
      const title = el('div', 'embed-title');
      const url = safeUrl(embed.url);
      if (url) {
        const a = el('a', null, embed.title);
        a.href = url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        title.append(a);
      } else title.textContent = embed.title;
      box.append(title);
    }
    if (embed.description) box.append(mdNode('div', 'embed-description', embed.description));
    if (embed.fields && embed.fields.length) {
      const fields = el('div', 'embed-fields');
      for (const f of embed.fields) {
        const field = el('div', f.inline ? 'field inline' : 'field');
        field.append(mdNode('div', 'field-name', f.name), mdNode('div', 'field-value', f.value));
        fields.append(field);
      }
      box.append(fields);
    }
    const imgs = images.map((u) => image(u, 'image')).filter(Boolean);
    if (imgs.length) {
      const gallery = el('div', `gallery n${Math.min(imgs.length, 4)}`);
      gallery.append(...imgs);
      box.append(gallery);
    }
    if (embed.thumbnail) {
      const thumb = image(embed.thumbnail.url, 'thumbnail');
      if (thumb) {
        const wrap = el('div', 'embed-thumb');
        wrap.append(thumb);
        box.append(wrap);
      }
    }
    if ((embed.footer && embed.footer.text) || embed.timestamp) {
      const footer = el('div', 'embed-footer');
      const icon = embed.footer && image(embed.footer.icon_url);
      if (icon) footer.append(icon);
      const parts = [];
      if (embed.footer && embed.footer.text) parts.push(embed.footer.text);
      if (embed.timestamp) parts.push(formatTime(embed.timestamp));
      footer.append(el('span', null, parts.join(' • ')));
      box.append(footer);
    }
    return box;
  }

  function renderComponents(message) {
    const wrap = el('div', 'components');
    for (const row of message.components || []) {
      const rowEl = el('div', 'row');
      for (const c of row.components || []) {
        if (c.type !== 2) continue;
        const label = `${c.emoji && c.emoji.name ? `${c.emoji.name} ` : ''}${c.label || ''}`;
        if (c.style === 5) {
          const a = el('a', 'btn s5', label);
          const url = safeUrl(c.url);
          if (url) a.href = url;
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          a.append(el('span', 'ext', '↗'));
          rowEl.append(a);
        } else {
          const b = el('button', `btn s${c.style}`, label);
          b.type = 'button';
          b.disabled = c.disabled === true;
          b.dataset.customId = c.custom_id;
          b.addEventListener('click', () => click(message, c.custom_id, b));
          rowEl.append(b);
        }
      }
      wrap.append(rowEl);
    }
    return wrap;
  }

  async function click(message, customId, button) {
    button.disabled = true;
    try {
      const res = await fetch('/_sim/interactions/click', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channelId: message.channel_id, messageId: message.id, customId }),
      });
      const body = await res.json();
      if (!res.ok) toast(body.error || 'click failed', true);
      else if (body.applied === 'failed') toast(body.error || 'This interaction failed', true);
      else toast(`Interaction answered (${body.applied})`, false);
    } catch {
      toast('This interaction failed', true);
    } finally {
      button.disabled = false;
      poll();
    }
  }

  let toastTimer;
  function toast(text, fail) {
    const t = $('#toast');
    t.textContent = text;
    t.className = fail ? 'fail' : '';
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 4000);
  }

  function pingedOf(message) {
    return {
      users: new Set((message.mentions || []).map((u) => u.id)),
      roles: new Set(message.mention_roles || []),
      everyone: message.mention_everyone === true,
    };
  }

  function renderHead(message) {
    const head = el('div', 'msg-head');
    head.append(el('span', 'author', message.author.global_name || message.author.username));
    if (message.author.bot) head.append(el('span', 'tag', message.webhook_id && message.webhook_id !== state.bot.id ? 'WEBHOOK' : 'APP'));
    head.append(el('time', 'time', formatTime(message.timestamp)));
    const pinged = pingedOf(message);
    if (pinged.everyone || pinged.users.size || pinged.roles.size) head.append(el('span', 'pinged', '🔔 pings'));
    return head;
  }

  function renderMessage(message) {
    const row = el('div', 'msg');
    row.dataset.messageId = message.id;
    const avatar = el('div', message.webhook_id && message.webhook_id !== state.bot.id ? 'avatar webhook' : 'avatar', (message.author.username || '?')[0].toUpperCase());
    const body = el('div', 'msg-body');
    body.append(renderHead(message));
    if (message.deferred) body.append(el('div', 'content thinking', `${message.author.username} is thinking…`));
    if (message.content || message.edited_timestamp) {
      const content = mdNode('div', 'content', message.content || '', pingedOf(message));
      if (message.edited_timestamp) {
        const edited = el('span', 'edited', '(edited)');
        edited.title = formatTime(message.edited_timestamp);
        content.append(edited);
      }
      body.append(content);
    }
    for (const group of groupEmbeds(message.embeds || [])) body.append(renderEmbed(group));
    if (message.components && message.components.length) body.append(renderComponents(message));
    if (message.reactions && message.reactions.length) {
      const reactions = el('div', 'reactions');
      for (const r of message.reactions) {
        const pill = el('span', r.me ? 'reaction me' : 'reaction', r.emoji.id ? `:${r.emoji.name}:` : r.emoji.name);
        pill.append(el('span', 'n', r.count));
        reactions.append(pill);
      }
      body.append(reactions);
    }
    for (const reply of message.ephemeral || []) {
      const box = el('div', 'ephemeral');
      box.append(el('span', 'note', `Only ${reply.user.username} can see this`));
      if (reply.content) box.append(mdNode('div', null, reply.content));
      else if (!reply.embeds.length) box.append(el('div', 'thinking', 'thinking…'));
      for (const group of groupEmbeds(reply.embeds || [])) box.append(renderEmbed(group));
      body.append(box);
    }
    if (message.thread) body.append(renderThread(message.thread));
    row.append(avatar, body);
    return row;
  }

  function renderThread(thread) {
    const box = el('div', 'thread-box');
    const head = el('div', 'thread-head');
    head.append(el('span', null, '🧵'));
    const name = el('a', null, thread.name);
    name.href = '#';
    name.addEventListener('click', (e) => {
      e.preventDefault();
      select(thread.id);
    });
    head.append(name, el('span', 'meta', `${thread.message_count} message${thread.message_count === 1 ? '' : 's'}`));
    if (thread.thread_metadata && thread.thread_metadata.archived) head.append(el('span', 'archived', 'Archived'));
    box.append(head);
    const messages = (state.messages[thread.id] || []).slice(-3);
    for (const m of messages) {
      const line = el('div', 'thread-msg');
      line.append(el('span', 'author', m.author.global_name || m.author.username));
      line.append(mdNode('span', null, m.content || (m.embeds.length ? '[embed]' : ''), pingedOf(m)));
      box.append(line);
    }
    return box;
  }

  function renderChannels() {
    const list = $('#channels');
    list.textContent = '';
    const parents = state.channels.filter((c) => c.type !== 11);
    for (const c of parents) {
      list.append(channelItem(c, false));
      for (const t of state.channels.filter((x) => x.parent_id === c.id)) list.append(channelItem(t, true));
    }
    const s = state.stats;
    const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
    $('#stats').textContent = `${count(s.messagesCreated, 'message')} · ${count(s.messagesEdited, 'edit')} · ${s.webhookExecutions} webhook · ${s.rateLimited} × 429 · ${s.status5xx} × 5xx · ${s.invalidRequests} invalid`;
  }

  function channelItem(c, isThread) {
    const li = el('li', isThread ? 'thread' : null);
    const b = el('button', c.id === selected ? 'active' : null);
    b.type = 'button';
    b.dataset.channelId = c.id;
    b.append(el('span', 'hash', isThread ? '🧵' : '#'), el('span', null, c.name));
    if (!c.permissions.view || !c.permissions.send) b.append(el('span', 'lock', c.permissions.view ? '🔇' : '🔒'));
    b.append(el('span', 'count', c.message_count));
    b.addEventListener('click', () => select(c.id));
    li.append(b);
    return li;
  }

  function renderMessages() {
    const pane = $('#messages');
    const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
    const channel = state.channels.find((c) => c.id === selected);
    $('#channel-name').textContent = channel ? channel.name : '';
    $('#channel-meta').textContent = channel && channel.thread_metadata ? (channel.thread_metadata.archived ? '· thread · archived' : '· thread') : '';
    pane.textContent = '';
    const messages = state.messages[selected] || [];
    if (!messages.length) pane.append(el('div', 'empty', 'No messages here yet.'));
    for (const m of messages) pane.append(renderMessage(m));
    if (atBottom) pane.scrollTop = pane.scrollHeight;
  }

  function select(id) {
    selected = id;
    history.replaceState(null, '', `#${id}`);
    render();
    const pane = $('#messages');
    pane.scrollTop = pane.scrollHeight;
  }

  function render() {
    if (!state) return;
    if (!state.channels.some((c) => c.id === selected)) selected = state.channels[0] ? state.channels[0].id : null;
    renderChannels();
    renderMessages();
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const res = await fetch(`/_sim/state?limit=200&since=${version}`, { cache: 'no-store' });
      const body = await res.json();
      if (!body.unchanged) {
        state = body;
        version = body.version;
        render();
        document.body.dataset.version = String(version);
      }
    } catch {
      // The simulator may be restarting; the next poll tries again.
    } finally {
      polling = false;
    }
  }

  selected = location.hash.slice(1) || null;
  window.addEventListener('hashchange', () => {
    const id = location.hash.slice(1);
    if (id && id !== selected) select(id);
  });
  poll();
  setInterval(poll, 1000);
})();
