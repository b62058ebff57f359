/** How a failed job tells the front end whether its message is fit for the user. */
export interface Failure {
  kind: 'user' | 'internal';
  message: string;
  /** Short reference that also stands in the worker's log line for this failure. */
  ref?: string;
}

const marker = 'deckhand-failure:';

/** Packs a failure into the text BullMQ keeps as failedReason. */
export function encodeFailure(failure: Failure): string {
  return marker + JSON.stringify(failure);
}

/** Reads a failedReason back; anything not written by encodeFailure counts as internal. */
export function decodeFailure(reason: string | undefined): Failure {
  if (reason?.startsWith(marker)) {
    try {
      return JSON.parse(reason.slice(marker.length)) as Failure;
    } catch {
      // fall through: a truncated reason is still shown, as internal
    }
  }
  return { kind: 'internal', message: reason ?? 'the job failed without a reason' };
}

/** Thrown by CommandQueue.wait when the job failed; carries the decoded failure. */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';

  constructor(
    readonly failure: Failure,
    readonly jobId: string,
  ) {
    super(failure.ref ? `${failure.message} (reference ${failure.ref})` : failure.message);
  }
}
