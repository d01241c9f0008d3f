// Given/when/then for every decider: given events → when a command → then the events it
// decides, or the DomainError it refuses with.
import assert from 'node:assert/strict';
import type { Decider, Message } from '../../src/domain/decider.ts';
import { DomainError } from '../../src/domain/errors.ts';

export const deciderSpec =
  <C extends Message, E extends Message, S>(decider: Decider<C, E, S>) =>
  (given: readonly E[]) => ({
    when: (command: C) => {
      const state = given.reduce(decider.evolve, decider.initialState());
      const decide = () => decider.decide(command, state);
      return {
        /** The decided events equal `expected`, or pass the `expected` check. */
        then: (expected: readonly E[] | ((events: E[]) => void)) => (typeof expected === 'function' ? expected(decide()) : assert.deepEqual(decide(), expected)),
        /** Refused with `code`; the message matches a RegExp, or the extras equal an object. */
        thenThrows: (code: string, expect?: RegExp | Record<string, unknown>) =>
          assert.throws(decide, (e: unknown) => {
            assert.ok(e instanceof DomainError, `expected a DomainError, got ${String(e)}`);
            assert.equal(e.code, code, e.message);
            if (expect instanceof RegExp) assert.match(e.message, expect);
            else if (expect) assert.deepEqual(e.extras, expect);
            return true;
          }),
      };
    },
  });
