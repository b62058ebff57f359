/** A port published by a service: the proxy listens on hostIp:hostPort and forwards to containerPort. */
export interface PortSpec {
  /** Address the proxy binds on the host; undefined means the configured default. */
  hostIp?: string;
  /** Host port; undefined means Deckhand picks a free one. */
  hostPort?: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/** Everything `run` was asked for, in engine-neutral terms; replicas share it. */
export interface RunSpec {
  image: string;
  /** The container's command, passed through untouched; undefined keeps the image's own. */
  cmd?: string[];
  /** Overrides the image's entrypoint; [] clears it. */
  entrypoint?: string[];
  /** Service name from --name; undefined means Deckhand picks worker1, worker2, … */
  name?: string;
  /** KEY=VALUE pairs, in the order given. */
  env: string[];
  labels: Record<string, string>;
  ports: PortSpec[];
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  workdir?: string;
  user?: string;
  hostname?: string;
  memoryBytes?: number;
  nanoCpus?: number;
}

/** The four ways `build` makes an image. */
export type BuildRequest =
  | { variant: 'copy'; file: string }
  | { variant: 'install'; pkg: string }
  | { variant: 'both'; pkg: string; file: string }
  | { variant: 'netcat'; port: number };

/** A parsed command, the same whichever front end it came from. */
export type Command =
  | { kind: 'build'; build: BuildRequest }
  | { kind: 'run'; spec: RunSpec }
  | { kind: 'scale'; direction: 'up' | 'down'; count: number; name: string }
  | { kind: 'stop'; name: string }
  | { kind: 'start'; name: string }
  | { kind: 'list' }
  | { kind: 'recovery' }
  | { kind: 'quit' };

export type CommandKind = Command['kind'];

/** Who asked for a command and from where, for logs, audit and replies. */
export interface Requester {
  source: 'console' | 'discord' | 'schedule' | 'events';
  userId?: string;
  userName?: string;
  channelId?: string;
  guildId?: string;
}

/** One managed service as `list` shows it. */
export interface ServiceView {
  name: string;
  image: string;
  state: 'running' | 'stopped' | 'degraded' | 'crash-looping';
  running: number;
  desired: number;
  /** Published ports through the proxy, as "0.0.0.0:8080->80/tcp". */
  ports: string[];
  protected: boolean;
  replicas: { name: string; state: string; desired: 'running' | 'stopped' }[];
}

/** What a successful command answers. Failures are thrown (UserError or anything else). */
export interface CommandResult {
  /** One line that says what happened: "Built image_3", "worker1 scaled to 4 replicas". */
  summary: string;
  /** Further lines worth showing (progress digest, what recovery fixed). */
  details?: string[];
  services?: ServiceView[];
  image?: string;
}

/** The job payload that travels over the queue. */
export interface CommandJob {
  command: Command;
  requester: Requester;
  /** The text the user typed, or a rendering of the slash command, for logs and audit. */
  text: string;
}
