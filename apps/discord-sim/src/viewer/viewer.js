// The simulator's viewer: polls /_sim/state and renders each channel like Discord.
// Everything from messages is untrusted: text goes through textContent, and the
// small Markdown renderer escapes first and only ever adds its own tags.
(() => {
  'use strict';
  const $ = (sel) => document.querySelector(sel);
  let state = null;
  let version = -1;
  let selected = null;
  let highlighted = null;

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

  // Discord-flavoured Markdown. Code and backslash escapes are taken out of
  // the raw text first (their content stays literal), the rest is escaped and
  // then only the renderer's own tags are added: headings, subtext, lists,
  // quotes, masked and bare links, mentions, bold, underline, italics,
  // strikethrough, spoilers and line breaks. A block element swallows the
  // line break after it, as in Discord.
  function markdown(text, pinged) {
    const held = [];
    const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
    const END = '\u0001';
    let s = String(text);
    s = s.replace(/```(?:[\w+-]*\n)?([\s\S]*?)```\n?/g, (_, code) => hold(`<pre class="code">${escapeHtml(code.replace(/\n$/, ''))}</pre>`));
    s = s.replace(/``([^`]+?)``|`([^`\n]+)`/g, (_, a, b) => hold(`<code>${escapeHtml(a || b)}</code>`));
    s = s.replace(/\\([^\w\s\u0000\u0001])/g, (_, ch) => hold(escapeHtml(ch)));
    s = escapeHtml(s);
    s = s.replace(/\[([^\]\n]+)\]\(&lt;(https?:\/\/[^\s)]+?)&gt;\)|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, l1, u1, l2, u2) =>
      hold(`<a href="${u1 || u2}" target="_blank" rel="noopener noreferrer">${l1 || l2}</a>`),
    );
    s = s.replace(/&lt;(https?:\/\/[^\s<]+?)&gt;/g, (_, url) => hold(`<a href="${url}" target="_blank" rel="noopener noreferrer">${url}</a>`));
    s = s.replace(/https?:\/\/[^\s<\u0000]+[^\s<.,:;"')\]\u0000]/g, (url) => hold(`<a href="${url}" target="_blank" rel="noopener noreferrer">${url}</a>`));
    s = s.replace(/&lt;@!?(\d{17,20})&gt;/g, (_, id) => hold(`<span class="mention${pinged.users.has(id) ? '' : ' silent'}">@user-${id.slice(-4)}</span>`));
    s = s.replace(/&lt;@&amp;(\d{17,20})&gt;/g, (_, id) => hold(`<span class="mention${pinged.roles.has(id) ? '' : ' silent'}">@${escapeHtml(roleName(id))}</span>`));
    s = s.replace(/@(everyone|here)/g, (_, who) => hold(`<span class="mention${pinged.everyone ? '' : ' silent'}">@${who}</span>`));
    s = s.replace(/^(#{1,3}) (.+)$/gm, (_, hashes, title) => `<span class="md-h${hashes.length}">${title}</span>${END}`);
    s = s.replace(/^-# (.+)$/gm, `<span class="md-sub">$1</span>${END}`);
    s = s.replace(/^ *[-*] (.+)$/gm, `<span class="md-li">• $1</span>${END}`);
    s = s.replace(/^&gt; (.*)$/gm, `<span class="quote">$1</span>${END}`);
    s = s.replace(/\*\*([^*]+?)\*\*/g, '<strong>$1</strong>');
    s = s.replace(/__([^_]+?)__/g, '<u>$1</u>');
    s = s.replace(/(^|[^\w*])\*([^*\n]+?)\*(?!\w)/g, '$1<em>$2</em>');
    s = s.replace(/(^|[^\w])_([^_\n]+?)_(?!\w)/g, '$1<em>$2</em>');
    s = s.replace(/~~([^~]+?)~~/g, '<s>$1</s>');
    s = s.replace(/\|\|([^|]+?)\|\|/g, '<span class="spoiler" tabindex="0">$1</span>');
    s = s.replace(new RegExp(`${END}\\n?`, 'g'), '');
    s = s.replace(/\n/g, '<br>');
    // Held pieces may hold others (a link inside a heading): resolve until none is left.
    while (/\u0000\d+\u0000/.test(s)) s = s.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
    return s;
  }

  function roleName(id) {
    const role = state && (state.roles || []).find((r) => r.id === id);
    return role ? role.name : `role-${id.slice(-4)}`;
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

  function renderPersistence() {
    const note = $('#persistence');
    if (state.stateFile) {
      note.textContent = `Messages and webhooks are kept across restarts in ${state.stateFile}.`;
      note.className = '';
    } else {
      note.textContent = 'Not saved: messages and webhooks vanish when the simulator stops.';
      note.className = 'volatile';
    }
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

  function select(id, messageId) {
    selected = id;
    highlighted = messageId || null;
    history.replaceState(null, '', `#${messageId ? `${id}-${messageId}` : id}`);
    setSidebar(false);
    render();
    const pane = $('#messages');
    const target = highlighted && pane.querySelector(`[data-message-id="${highlighted}"]`);
    if (target) target.scrollIntoView({ block: 'center' });
    else pane.scrollTop = pane.scrollHeight;
  }

  // `#<channel>` or `#<channel>-<message>` (the console's message links).
  function fromHash() {
    const [channel, message] = location.hash.slice(1).split('-');
    return { channel: channel || null, message: message || null };
  }

  function setSidebar(open) {
    document.body.classList.toggle('sidebar-open', open);
    $('#toggle-sidebar').setAttribute('aria-expanded', String(open));
    $('#scrim').hidden = !open;
  }

  function openWebhookDialog() {
    const dialog = $('#webhook-dialog');
    const select = $('#webhook-channel');
    select.textContent = '';
    for (const c of state ? state.channels.filter((x) => x.type !== 11) : []) {
      const option = el('option', null, `#${c.name}`);
      option.value = c.id;
      option.title = `channel id ${c.id}`;
      option.selected = c.id === selected;
      select.append(option);
    }
    $('#webhook-error').hidden = true;
    $('#webhook-result').hidden = true;
    setSidebar(false);
    dialog.showModal();
  }

  async function createWebhook(event) {
    event.preventDefault();
    const error = $('#webhook-error');
    error.hidden = true;
    try {
      const res = await fetch('/_sim/webhooks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channelId: $('#webhook-channel').value, name: $('#webhook-name').value.trim() || undefined }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error || `the simulator answered ${res.status}`);
      $('#webhook-url').value = body.url;
      $('#webhook-result').hidden = false;
      $('#webhook-url').select();
    } catch (err) {
      error.textContent = `No webhook created: ${err.message}`;
      error.hidden = false;
    }
  }

  function render() {
    if (!state) return;
    if (!state.channels.some((c) => c.id === selected)) selected = state.channels[0] ? state.channels[0].id : null;
    renderChannels();
    renderMessages();
    renderPersistence();
    if (highlighted) {
      const row = $('#messages').querySelector(`[data-message-id="${highlighted}"]`);
      if (row) row.classList.add('highlight');
    }
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
        document.dispatchEvent(new Event('viewer:rendered'));
      }
    } catch {
      // The simulator may be restarting; the next poll tries again.
    } finally {
      polling = false;
    }
  }

  ({ channel: selected, message: highlighted } = fromHash());
  let scrolledToHighlight = false;
  window.addEventListener('hashchange', () => {
    const { channel, message } = fromHash();
    if (channel && (channel !== selected || message !== highlighted)) select(channel, message);
  });
  $('#toggle-sidebar').addEventListener('click', () => setSidebar(!document.body.classList.contains('sidebar-open')));
  $('#scrim').addEventListener('click', () => setSidebar(false));
  $('#open-webhook').addEventListener('click', openWebhookDialog);
  $('#webhook-form').addEventListener('submit', createWebhook);
  $('#close-webhook').addEventListener('click', () => $('#webhook-dialog').close());
  $('#copy-webhook').addEventListener('click', async () => {
    const url = $('#webhook-url').value;
    try {
      await navigator.clipboard.writeText(url);
      toast('Webhook URL copied', false);
    } catch {
      $('#webhook-url').select();
      toast('Select the URL and copy it', false);
    }
  });
  document.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.classList.contains('spoiler')) e.target.classList.toggle('shown');
  });
  document.addEventListener('viewer:rendered', () => {
    if (scrolledToHighlight || !highlighted) return;
    const row = $('#messages').querySelector(`[data-message-id="${highlighted}"]`);
    if (row) {
      row.scrollIntoView({ block: 'center' });
      scrolledToHighlight = true;
    }
  });
  poll();
  setInterval(poll, 1000);
})();
