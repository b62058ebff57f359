import type Dockerode from 'dockerode';

/** How many `action` events the engine logged for a container from `sinceMs` until now. */
export async function countEvents(
  docker: Dockerode,
  container: string,
  action: string,
  sinceMs: number,
): Promise<number> {
  const stream = await docker.getEvents({
    since: Math.floor(sinceMs / 1000),
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { type: ['container'], event: [action], container: [container] },
  });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { timeNano: number })
    .filter((e) => e.timeNano / 1e6 >= sinceMs).length;
}
