import { expect } from 'vitest';

import { UserError } from '../../src/core/errors.js';

/** Runs fn and returns the UserError it throws, failing the test if it throws nothing or something else. */
export function refusal(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError, but the input was accepted');
}
