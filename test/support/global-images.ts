import { createLogger } from '../../src/core/log.js';
import { ensureTestImages } from './images.js';

/** Makes the images the Docker tests use before any test file runs; images stay for later runs. */
export default async function setup() {
  const log = createLogger(process.env.LOG_LEVEL ?? 'info', false).child({ setup: 'test-images' });
  await ensureTestImages(log);
}
