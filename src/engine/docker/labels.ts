/** Label keys Deckhand writes on everything it creates; nothing without them is ever touched. */
export const LABEL = {
  instance: 'deckhand.instance',
  role: 'deckhand.role',
  service: 'deckhand.service',
  replica: 'deckhand.replica',
  spec: 'deckhand.spec',
  job: 'deckhand.job',
} as const;

export type Role = 'replica' | 'proxy' | 'image' | 'network';

/** The labels that mark an object as this Deckhand instance's, with its role. */
export function ownedLabels(
  instance: string,
  role: Role,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...extra, [LABEL.instance]: instance, [LABEL.role]: role };
}

/** A Docker API label filter that matches only this instance's objects (of one role, if given). */
export function ownedFilter(instance: string, role?: Role): { label: string[] } {
  const label = [`${LABEL.instance}=${instance}`];
  if (role) label.push(`${LABEL.role}=${role}`);
  return { label };
}

/** True when the labels say this instance made the object. */
export function isOwned(
  labels: Record<string, string> | undefined | null,
  instance: string,
): boolean {
  return labels?.[LABEL.instance] === instance;
}
