import { DiscordAPIError } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SIM_CUSTOM_EMOJI, SIM_ROLE } from '../src/index';
import { apiError, errorPaths, setup } from './helpers';

const { sim, rest, client } = await setup();
const channel = sim.channelId;
const post = (body: unknown) => rest.post(Routes.channelMessages(channel), { body });
type Msg = { id: string; embeds: Record<string, unknown>[]; content: string; edited_timestamp: string | null };

afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.configure({ rateLimits: { perChannel: null, global: null } });
});

describe('messages', () => {
  it('posts an embed and reads it back', async () => {
    const embed = {
      title: '⚠️ Godzilla',
      url: 'https://flipfix.example/reports/1',
      description: '**Stuck ball** in the left ramp',
      color: 0xe67e22,
      fields: [{ name: 'Priority', value: 'Unplayable', inline: true }],
      image: { url: 'https://flipfix.example/p/1.jpg' },
      footer: { text: 'Flipfix' },
      timestamp: new Date().toISOString(),
    };
    const created = (await post({ embeds: [embed] })) as Msg;
    const fetched = (await rest.get(Routes.channelMessage(channel, created.id))) as Msg;
    expect(fetched.id).toBe(created.id);
    expect(fetched.embeds[0]).toMatchObject({ ...embed, type: 'rich' });
    expect(sim.messages(channel)).toHaveLength(1);
    const list = (await rest.get(Routes.channelMessages(channel), { query: new URLSearchParams({ limit: '1' }) })) as Msg[];
    expect(list.map((m) => m.id)).toEqual([created.id]);
  });

  it('edits and deletes a message', async () => {
    const created = (await post({ content: 'first' })) as Msg;
    const edited = (await rest.patch(Routes.channelMessage(channel, created.id), { body: { content: 'second' } })) as Msg;
    expect(edited.content).toBe('second');
    expect(edited.edited_timestamp).not.toBeNull();
    expect(sim.stats().messagesEdited).toBe(1);
    await rest.delete(Routes.channelMessage(channel, created.id));
    expect((await apiError(rest.get(Routes.channelMessage(channel, created.id)))).code).toBe(10008);
  });

  it("lists the guild's channels without threads, and answers Unknown Guild for another guild", async () => {
    const other = sim.createChannel({ name: 'workshop' });
    const first = (await post({ content: 'thread parent' })) as Msg;
    await rest.post(Routes.threads(channel, first.id), { body: { name: 'a thread' } });
    const guildId = ((await rest.get(Routes.channel(channel))) as { guild_id: string }).guild_id;
    const listed = (await rest.get(Routes.guildChannels(guildId))) as { id: string; name: string; type: number }[];
    expect(listed.map((c) => [c.name, c.type])).toEqual([
      ['machine-notifications', 0],
      ['workshop', 0],
    ]);
    expect(listed.map((c) => c.id)).toContain(other.id);
    expect((await apiError(rest.get(Routes.guildChannels('1100000000000009999')))).code).toBe(10004);
  });

  it("lists the guild's roles: @everyone (the guild's id) and Maintainers", async () => {
    const guildId = ((await rest.get(Routes.channel(channel))) as { guild_id: string }).guild_id;
    const roles = (await rest.get(Routes.guildRoles(guildId))) as { id: string; name: string; position: number }[];
    expect(roles.map((r) => [r.id, r.name, r.position])).toEqual([
      [guildId, '@everyone', 0],
      [SIM_ROLE.id, 'Maintainers', 1],
    ]);
    expect((await apiError(rest.get(Routes.guildRoles('1100000000000009999')))).code).toBe(10004);
  });

  it('answers on /api, /api/v9 and /api/v10 (the client uses v10)', async () => {
    for (const base of ['/api', '/api/v9', '/api/v10']) {
      const res = await fetch(`${sim.url}${base}/users/@me`, { headers: { authorization: `Bot ${sim.token}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: sim.state.botUser.id, bot: true });
    }
  });

  const long = (n: number) => 'x'.repeat(n);
  const cases: [string, unknown, string[]][] = [
    ['title 257', { embeds: [{ title: long(257) }] }, ['embeds.0.title:BASE_TYPE_MAX_LENGTH']],
    ['description 4097', { embeds: [{ description: long(4097) }] }, ['embeds.0.description:BASE_TYPE_MAX_LENGTH']],
    [
      '6001 characters over all embeds',
      { embeds: [{ description: long(4000) }, { description: long(2001) }] },
      ['embeds:MAX_EMBED_SIZE_EXCEEDED'],
    ],
    ['11 embeds', { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) }, ['embeds:BASE_TYPE_MAX_LENGTH']],
    [
      '26 fields',
      { embeds: [{ fields: Array.from({ length: 26 }, (_, i) => ({ name: `f${i}`, value: 'v' })) }] },
      ['embeds.0.fields:BASE_TYPE_MAX_LENGTH'],
    ],
    ['field value 1025', { embeds: [{ fields: [{ name: 'n', value: long(1025) }] }] }, ['embeds.0.fields.0.value:BASE_TYPE_MAX_LENGTH']],
    ['field name 257', { embeds: [{ fields: [{ name: long(257), value: 'v' }] }] }, ['embeds.0.fields.0.name:BASE_TYPE_MAX_LENGTH']],
    ['footer 2049', { embeds: [{ footer: { text: long(2049) } }] }, ['embeds.0.footer.text:BASE_TYPE_MAX_LENGTH']],
    ['author 257', { embeds: [{ author: { name: long(257) } }] }, ['embeds.0.author.name:BASE_TYPE_MAX_LENGTH']],
    ['bad url', { embeds: [{ title: 't', url: 'ftp://example.com/x' }] }, ['embeds.0.url:URL_TYPE_INVALID_SCHEME']],
    ['bad image url', { embeds: [{ image: { url: 'not a url' } }] }, ['embeds.0.image.url:URL_TYPE_INVALID_URL']],
    ['colour too big', { embeds: [{ title: 't', color: 0x1000000 }] }, ['embeds.0.color:NUMBER_TYPE_MAX']],
    ['colour not an int', { embeds: [{ title: 't', color: '#ff0000' }] }, ['embeds.0.color:NUMBER_TYPE_COERCE']],
    [
      'link button with custom_id',
      { components: [{ type: 1, components: [{ type: 2, style: 5, label: 'Open', url: 'https://x.example', custom_id: 'a' }] }] },
      ['components.0.components.0.custom_id:BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED'],
    ],
    [
      '6 action rows',
      { components: Array.from({ length: 6 }, (_, i) => ({ type: 1, components: [{ type: 2, style: 1, label: 'b', custom_id: `b${i}` }] })) },
      ['components:BASE_TYPE_MAX_LENGTH'],
    ],
    [
      'custom_id 101',
      { components: [{ type: 1, components: [{ type: 2, style: 1, label: 'b', custom_id: long(101) }] }] },
      ['components.0.components.0.custom_id:BASE_TYPE_BAD_LENGTH'],
    ],
    [
      'label 81',
      { components: [{ type: 1, components: [{ type: 2, style: 1, label: long(81), custom_id: 'b' }] }] },
      ['components.0.components.0.label:BASE_TYPE_MAX_LENGTH'],
    ],
    ['nonce 26 chars', { content: 'hi', nonce: long(26) }, ['nonce:BASE_TYPE_MAX_LENGTH']],
    ['content 2001', { content: long(2001) }, ['content:BASE_TYPE_MAX_LENGTH']],
  ];
  it.each(cases)('rejects %s with 50035 and the nested error path', async (_name, body, paths) => {
    const err = await apiError(post(body));
    expect(err.status).toBe(400);
    expect(err.code).toBe(50035);
    expect((err.rawError as { message: string }).message).toBe('Invalid Form Body');
    expect(errorPaths((err.rawError as { errors?: unknown }).errors)).toEqual(paths);
    expect(sim.messages(channel)).toHaveLength(0);
  });

  it('counts code points, not UTF-16 units: 2000 emoji fit in content', async () => {
    await expect(post({ content: '🎯'.repeat(2000) })).resolves.toBeTruthy();
    expect((await apiError(post({ content: '🎯'.repeat(2001) }))).code).toBe(50035);
  });

  it('rejects an empty message with 50006', async () => {
    const err = await apiError(post({ content: '', embeds: [] }));
    expect(err.status).toBe(400);
    expect(err.code).toBe(50006);
    expect(err.message).toBe('Cannot send an empty message');
  });
});

describe('auth, permissions and unknown resources', () => {
  it('answers 401 to a wrong token', async () => {
    const err = await apiError(client().setToken('wrong').post(Routes.channelMessages(channel), { body: { content: 'x' } }));
    expect(err.status).toBe(401);
    expect(err.rawError).toEqual({ message: '401: Unauthorized', code: 0 });
    expect(sim.stats().invalidRequests).toBe(1);
  });

  it('answers 401 while the token is revoked, then recovers', async () => {
    // @discordjs/rest forgets its token after a 401, so each step gets its own client.
    sim.injectFaults({ revokeToken: true });
    const err = await apiError(client().post(Routes.channelMessages(channel), { body: { content: 'x' } }));
    expect([err.status, err.message]).toEqual([401, '401: Unauthorized']);
    sim.injectFaults({ revokeToken: false });
    await expect(client().post(Routes.channelMessages(channel), { body: { content: 'x' } })).resolves.toBeTruthy();
  });

  it('answers 403 50001 without View Channel and 50013 without Send Messages', async () => {
    const hidden = sim.createChannel({ name: 'hidden', permissions: { view: false } });
    const readOnly = sim.createChannel({ name: 'read-only', permissions: { send: false } });
    const e1 = await apiError(rest.post(Routes.channelMessages(hidden.id), { body: { content: 'x' } }));
    expect([e1.status, e1.code, e1.message]).toEqual([403, 50001, 'Missing Access']);
    const e2 = await apiError(rest.post(Routes.channelMessages(readOnly.id), { body: { content: 'x' } }));
    expect([e2.status, e2.code, e2.message]).toEqual([403, 50013, 'Missing Permissions']);
  });

  it('answers 404 10003 / 10008 / 10015', async () => {
    const e1 = await apiError(rest.post(Routes.channelMessages('1234567890123456789'), { body: { content: 'x' } }));
    expect([e1.status, e1.code, e1.message]).toEqual([404, 10003, 'Unknown Channel']);
    const e2 = await apiError(rest.patch(Routes.channelMessage(channel, '1234567890123456789'), { body: { content: 'x' } }));
    expect([e2.status, e2.code, e2.message]).toEqual([404, 10008, 'Unknown Message']);
    const e3 = await apiError(rest.post(Routes.webhook('1234567890123456789', 'nope'), { body: { content: 'x' }, auth: false }));
    expect([e3.status, e3.code, e3.message]).toEqual([404, 10015, 'Unknown Webhook']);
  });
});

describe('threads and reactions', () => {
  it('starts one thread per message, posts into it, unarchives on send', async () => {
    const m = (await post({ content: 'report' })) as Msg;
    const thread = (await rest.post(Routes.threads(channel, m.id), { body: { name: 'Godzilla: stuck ball', auto_archive_duration: 1440 } })) as {
      id: string;
      type: number;
      parent_id: string;
    };
    expect(thread).toMatchObject({ type: 11, parent_id: channel });
    const again = await apiError(rest.post(Routes.threads(channel, m.id), { body: { name: 'again' } }));
    expect([again.status, again.code, again.message]).toEqual([400, 160004, 'A thread has already been created for this message']);

    await rest.patch(Routes.channel(thread.id), { body: { archived: true } });
    expect(sim.state.channels.get(thread.id)?.thread_metadata?.archived).toBe(true);
    await rest.post(Routes.channelMessages(thread.id), { body: { content: 'fixed it' } });
    const fetched = (await rest.get(Routes.channel(thread.id))) as { thread_metadata: { archived: boolean } };
    expect(fetched.thread_metadata.archived).toBe(false);
    expect(sim.messages(thread.id).map((x) => x.content)).toEqual(['fixed it']);
    expect((sim.messages(channel)[0]?.thread as { id: string } | undefined)?.id).toBe(thread.id);
  });

  it('validates the thread body', async () => {
    const m = (await post({ content: 'report' })) as Msg;
    const err = await apiError(rest.post(Routes.threads(channel, m.id), { body: { name: '', auto_archive_duration: 30 } }));
    expect(errorPaths((err.rawError as { errors?: unknown }).errors).sort()).toEqual([
      'auto_archive_duration:BASE_TYPE_CHOICES',
      'name:BASE_TYPE_BAD_LENGTH',
    ]);
  });

  it('adds unicode and custom reactions, refuses unknown emoji with 10014', async () => {
    const m = (await post({ content: 'report' })) as Msg;
    await rest.put(Routes.channelMessageOwnReaction(channel, m.id, encodeURIComponent('✅')));
    await rest.put(Routes.channelMessageOwnReaction(channel, m.id, `${SIM_CUSTOM_EMOJI.name}:${SIM_CUSTOM_EMOJI.id}`));
    const err = await apiError(rest.put(Routes.channelMessageOwnReaction(channel, m.id, 'not-an-emoji')));
    expect([err.status, err.code, err.message]).toEqual([400, 10014, 'Unknown Emoji']);
    const err2 = await apiError(rest.put(Routes.channelMessageOwnReaction(channel, m.id, 'ghost:1234567890123456789')));
    expect(err2.code).toBe(10014);
    const reactions = sim.messages(channel)[0]?.reactions as { emoji: { name: string }; count: number; me: boolean }[];
    expect(reactions.map((r) => [r.emoji.name, r.count, r.me])).toEqual([
      ['✅', 1, true],
      ['flipfix', 1, true],
    ]);
  });
});

describe('webhooks', () => {
  it('executes with and without wait, edits, and checks the token', async () => {
    const hook = sim.createWebhook(channel, 'Flipfix legacy');
    const noWait = await rest.post(Routes.webhook(hook.id, hook.token), { body: { content: 'no wait' }, auth: false });
    expect(noWait).not.toHaveProperty('id');
    const waited = (await rest.post(Routes.webhook(hook.id, hook.token), {
      body: { content: 'waited', username: 'Flipfix' },
      query: new URLSearchParams({ wait: 'true' }),
      auth: false,
    })) as Msg & { webhook_id: string; author: { username: string } };
    expect(waited).toMatchObject({ content: 'waited', webhook_id: hook.id, author: { username: 'Flipfix' } });
    const edited = (await rest.patch(Routes.webhookMessage(hook.id, hook.token, waited.id), { body: { content: 'edited' }, auth: false })) as Msg;
    expect(edited.content).toBe('edited');
    const info = (await rest.get(Routes.webhook(hook.id, hook.token), { auth: false })) as { channel_id: string };
    expect(info.channel_id).toBe(channel);
    const bad = await apiError(rest.post(Routes.webhook(hook.id, 'wrong-token'), { body: { content: 'x' }, auth: false }));
    expect([bad.status, bad.code]).toEqual([401, 50027]);
    expect(sim.stats().webhookExecutions).toBe(2);
    expect(sim.messages(channel).map((m) => m.content)).toEqual(['no wait', 'edited']);
  });

  it('posts into a thread with thread_id', async () => {
    const hook = sim.createWebhook(channel);
    const m = (await post({ content: 'report' })) as Msg;
    const thread = (await rest.post(Routes.threads(channel, m.id), { body: { name: 't' } })) as { id: string };
    await rest.post(Routes.webhook(hook.id, hook.token), { body: { content: 'in thread' }, query: new URLSearchParams({ thread_id: thread.id }), auth: false });
    expect(sim.messages(thread.id).map((x) => x.content)).toEqual(['in thread']);
  });
});

describe('nonce and mentions', () => {
  it('returns the first message for a repeated enforce_nonce', async () => {
    const a = (await post({ content: 'once', nonce: 'evt-1:bot', enforce_nonce: true })) as Msg;
    const b = (await post({ content: 'once', nonce: 'evt-1:bot', enforce_nonce: true })) as Msg;
    expect(b.id).toBe(a.id);
    expect(sim.messages(channel)).toHaveLength(1);
    expect(sim.stats().messagesCreated).toBe(1);
    const c = (await post({ content: 'once', nonce: 'evt-1:bot' })) as Msg;
    expect(c.id).not.toBe(a.id);
  });

  it('computes who would be pinged', async () => {
    const text = '@everyone <@123456789012345678> <@&223456789012345678>';
    await post({ content: text });
    await post({ content: text, allowed_mentions: { parse: [] } });
    await post({ content: text, allowed_mentions: { parse: [], users: ['123456789012345678'] } });
    const [all, none, one] = sim.messages(channel);
    expect([all?.mention_everyone, all?.mentions.map((u) => u.id), all?.mention_roles]).toEqual([
      true,
      ['123456789012345678'],
      ['223456789012345678'],
    ]);
    expect([none?.mention_everyone, none?.mentions, none?.mention_roles]).toEqual([false, [], []]);
    expect(none?.allowed_mentions).toEqual({ parse: [] });
    expect([one?.mention_everyone, one?.mentions.map((u) => u.id), one?.mention_roles]).toEqual([false, ['123456789012345678'], []]);
  });

  it('rejects parse and an explicit list of the same type', async () => {
    const err = await apiError(post({ content: 'x', allowed_mentions: { parse: ['users'], users: ['123456789012345678'] } }));
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(errorPaths((err.rawError as { errors?: unknown }).errors)).toEqual(['allowed_mentions:MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE']);
  });
});
