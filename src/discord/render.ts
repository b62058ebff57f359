import type { APIEmbed, APIEmbedField } from 'discord.js';
import type { CommandResult, ServiceView } from '../core/types.js';
import { LIMITS } from './limits.js';

/** One message the bot sends: text, embeds and files, each inside Discord's limits. */
export interface OutMessage {
  content?: string;
  embeds?: APIEmbed[];
  files?: { name: string; data: Buffer }[];
}

const colour = { ok: 0x2e8b57, warn: 0xd4a017, error: 0xc0392b, info: 0x5865f2 } as const;

const stateMark: Record<ServiceView['state'], string> = {
  running: '🟢 running',
  degraded: '🟡 degraded',
  stopped: '⚪ stopped',
  'crash-looping': '🔴 crash-looping',
};

/**
 * Renders a command's result as one or more messages. What does not fit is never cut silently:
 * long output is shown in part with the whole of it attached as a file, and a long service list
 * is spread over several embeds and, past one message, several messages.
 */
export function renderResult(result: CommandResult): OutMessage[] {
  const head = headEmbed(result);
  const files: OutMessage['files'] = [];

  if (head.overflow) files.push({ name: 'output.txt', data: Buffer.from(fullText(result)) });
  const embeds = [head.embed];

  if (result.services) {
    const table = serviceEmbeds(result.services);
    embeds.push(...table.embeds);
    if (table.cut)
      files.push({ name: 'services.txt', data: Buffer.from(serviceTable(result.services)) });
  }

  const messages = packEmbeds(embeds);
  const first = messages[0];
  if (first && files.length > 0) first.files = files;
  return messages;
}

function headEmbed(result: CommandResult): { embed: APIEmbed; overflow: boolean } {
  const embed: APIEmbed = { color: colour.ok };
  let description = '';

  if (result.summary.length <= LIMITS.embedTitle) embed.title = result.summary;
  else description = `${result.summary}\n`;

  const details = result.details ?? [];
  let shown = 0;
  for (const line of details) {
    const next = `${description}${line}\n`;
    if (next.length > LIMITS.embedDescription - 120) break;
    description = next;
    shown++;
  }

  const overflow = shown < details.length || description.length > LIMITS.embedDescription;
  if (overflow) {
    description = description.slice(0, LIMITS.embedDescription - 120);
    description += `\n… ${details.length - shown} more lines: the whole output is attached as output.txt`;
  }

  if (description) embed.description = description.trimEnd();
  if (result.image)
    embed.fields = [
      { name: 'Image', value: result.image.slice(0, LIMITS.fieldValue), inline: true },
    ];
  if (result.services?.length === 0)
    embed.footer = { text: 'No services: Deckhand manages nothing yet.' };
  return { embed, overflow };
}

function fullText(result: CommandResult): string {
  return [result.summary, ...(result.details ?? [])].join('\n') + '\n';
}

/** One field per service, packed into as many embeds as the limits need. */
function serviceEmbeds(services: ServiceView[]): { embeds: APIEmbed[]; cut: boolean } {
  let cut = false;
  const fields = services.map((s): APIEmbedField => {
    const value = serviceValue(s);
    const name = `${s.name}`;
    if (value.length > LIMITS.fieldValue || name.length > LIMITS.fieldName) cut = true;
    return {
      name: name.slice(0, LIMITS.fieldName),
      value:
        value.length > LIMITS.fieldValue
          ? `${value.slice(0, LIMITS.fieldValue - 40)}\n… (see services.txt)`
          : value,
    };
  });

  const embeds: APIEmbed[] = [];
  let current: APIEmbed | undefined;
  let size = 0;
  for (const field of fields) {
    const add = field.name.length + field.value.length;
    if (
      !current ||
      (current.fields?.length ?? 0) >= LIMITS.fieldsPerEmbed ||
      size + add > LIMITS.embedTotal / 2
    ) {
      current = { color: colour.info, fields: [] };
      embeds.push(current);
      size = 0;
    }
    current.fields?.push(field);
    size += add;
  }
  return { embeds, cut };
}

function serviceValue(s: ServiceView): string {
  const ports = s.ports.length > 0 ? s.ports.join(', ') : 'no published ports';
  const guard = s.protected ? '🛡️ protected' : 'not protected';
  return [
    `\`${s.image}\` · ${s.running}/${s.desired} running · ${stateMark[s.state]}`,
    `${ports} · ${guard}`,
  ].join('\n');
}

/** The service list as a plain-text table, for the attached file. */
export function serviceTable(services: ServiceView[]): string {
  const rows = [
    ['NAME', 'IMAGE', 'RUNNING/DESIRED', 'STATE', 'PORTS', 'PROTECTED'],
    ...services.map((s) => [
      s.name,
      s.image,
      `${s.running}/${s.desired}`,
      s.state,
      s.ports.join(',') || '-',
      s.protected ? 'yes' : 'no',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Size of an embed as Discord counts it against the 6000-character message total. */
export function embedSize(e: APIEmbed): number {
  const fields = (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  return (
    (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + fields
  );
}

/** Puts embeds into messages: at most 10 each and at most 6000 characters across them. */
export function packEmbeds(embeds: APIEmbed[]): OutMessage[] {
  const messages: OutMessage[] = [];
  let current: APIEmbed[] = [];
  let size = 0;

  for (const embed of embeds) {
    const add = embedSize(embed);
    if (
      current.length > 0 &&
      (current.length >= LIMITS.embedsPerMessage || size + add > LIMITS.embedTotal)
    ) {
      messages.push({ embeds: current });
      current = [];
      size = 0;
    }
    current.push(embed);
    size += add;
  }
  if (current.length > 0) messages.push({ embeds: current });
  return messages;
}

/** The reply shown while a command runs: its latest progress lines, newest last, within one message. */
export function renderProgress(text: string, lines: readonly string[]): string {
  const head = `⏳ ${text}`;
  const shown: string[] = [];
  let size = head.length + 20;

  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').slice(0, 300);
    if (size + line.length + 1 > LIMITS.content - 60 || shown.length >= 15) break;
    shown.unshift(line);
    size += line.length + 1;
  }

  if (shown.length === 0) return head;
  const earlier = lines.length - shown.length;
  const note = earlier > 0 ? `(${earlier} earlier lines)\n` : '';
  return `${head}\n\`\`\`\n${note}${shown.join('\n').replaceAll('```', "'''")}\n\`\`\``;
}

/** A failure as the person who asked sees it; internal ones carry the log reference. */
export function renderFailure(kind: 'user' | 'internal', message: string, ref?: string): string {
  if (kind === 'user') return `❌ ${message}`;
  return `⚠️ Internal error${ref ? `, reference \`${ref}\`` : ''}. The details are in Deckhand's log.`;
}

/** Plain text as a message; text longer than one message is shown in part and attached whole. */
export function textMessage(text: string, fileName = 'message.txt'): OutMessage {
  if (text.length <= LIMITS.content) return { content: text };
  const note = `\n… the whole text is attached as ${fileName}`;
  return {
    content: text.slice(0, LIMITS.content - note.length) + note,
    files: [{ name: fileName, data: Buffer.from(text) }],
  };
}

/** An OutMessage in the shape discord.js's reply methods take. */
export function forDiscordJs(m: OutMessage): {
  content?: string;
  embeds?: APIEmbed[];
  files?: { attachment: Buffer; name: string }[];
} {
  return {
    ...(m.content !== undefined ? { content: m.content } : {}),
    ...(m.embeds ? { embeds: m.embeds } : {}),
    ...(m.files ? { files: m.files.map((f) => ({ attachment: f.data, name: f.name })) } : {}),
  };
}
