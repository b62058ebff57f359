// Shapes of the objects the stand-in hands to discord.js, as Discord's API documents them.

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A fresh snowflake whose timestamp is `at` (ms), as Discord makes them. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | increment).toString();
}

/** A Discord user object. */
export function user(id: string, username: string, bot = false) {
  return {
    id,
    username,
    discriminator: '0',
    global_name: username,
    avatar: null,
    bot,
    flags: 0,
    public_flags: 0,
  };
}

/** A guild member as interactions carry it. */
export function member(id: string, username: string, roles: string[], permissions: bigint) {
  return {
    user: user(id, username),
    roles,
    permissions: permissions.toString(),
    joined_at: '2024-01-01T00:00:00.000Z',
    nick: null,
    avatar: null,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  };
}

/** A text channel in the guild. */
export function textChannel(id: string, guildId: string, name: string) {
  return {
    id,
    type: 0,
    guild_id: guildId,
    name,
    position: 0,
    permission_overwrites: [],
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    parent_id: null,
    flags: 0,
  };
}

/** The GUILD_CREATE payload for a guild with the given text channels. */
export function guild(id: string, ownerId: string, channels: ReturnType<typeof textChannel>[]) {
  return {
    id,
    name: 'Deckhand test guild',
    icon: null,
    owner_id: ownerId,
    unavailable: false,
    large: false,
    member_count: 2,
    joined_at: '2024-01-01T00:00:00.000Z',
    features: [],
    roles: [
      {
        id,
        name: '@everyone',
        permissions: '2147485696',
        position: 0,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    channels,
    threads: [],
    members: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    premium_tier: 0,
    preferred_locale: 'en-US',
    system_channel_flags: 0,
  };
}

/** A message object as Discord answers for a created or edited message. */
export function message(fields: {
  id: string;
  channelId: string;
  guildId: string;
  author: ReturnType<typeof user>;
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: { id: string; filename: string; size: number }[];
  flags: number;
  edited: boolean;
}) {
  return {
    id: fields.id,
    channel_id: fields.channelId,
    guild_id: fields.guildId,
    author: fields.author,
    content: fields.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: fields.edited ? new Date().toISOString() : null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: fields.attachments.map((a) => ({
      ...a,
      url: `https://cdn.invalid/${a.id}/${a.filename}`,
      proxy_url: `https://cdn.invalid/${a.id}/${a.filename}`,
    })),
    embeds: fields.embeds,
    components: fields.components,
    pinned: false,
    type: 0,
    flags: fields.flags,
  };
}
