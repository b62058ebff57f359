import { expect } from 'vitest';

import { UserError } from '../../src/core/errors.js';

/** Runs fn and returns the UserError it throws; no error or another kind fails the test. */
export function refusal(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError, but the input was accepted');
}
