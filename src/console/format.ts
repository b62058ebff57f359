import type { CommandResult, ServiceView } from '../core/types.js';

/** Lays out services as a plain-text table, one row per service. */
export function servicesTable(services: ServiceView[]): string {
  const header = ['NAME', 'IMAGE', 'REPLICAS', 'STATE', 'PORTS', 'PROTECTED'];
  const rows = services.map((s) => [
    s.name,
    s.image,
    `${s.running}/${s.desired}`,
    s.state,
    s.ports.join(', ') || '-',
    s.protected ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Renders a command's result for a terminal. */
export function formatResult(result: CommandResult): string {
  const parts = [result.summary];
  if (result.services?.length) parts.push(servicesTable(result.services));
  for (const line of result.details ?? []) parts.push(`  ${line}`);
  return parts.join('\n');
}
