import { describe, expect, test } from 'vitest';
import { canTransition, classifyAck, COMMAND_STATUSES, TERMINAL_STATUSES, fromStored, toStored, TRANSITIONS, type AckOutcome, type AckTarget, type StoredStatus, type TransitionName } from '../../src/modules/commands/status.js';

/** The life-cycle table the SQL guards are built from. */
describe('transitions', () => {
  const all = COMMAND_STATUSES.map(toStored);
  const allowed: Record<TransitionName, StoredStatus[]> = {
    send: ['queued'],
    deliver: ['queued', 'sent'],
    fail: ['queued', 'sent'],
    expire: ['queued'],
    miss: ['sent'],
    cancel: ['queued'],
  };
  const cases = (Object.keys(allowed) as TransitionName[]).flatMap((name) => all.map((status) => [name, status, allowed[name].includes(status)] as const));

  test.each(cases)('%s from %s: %s', (name, status, expected) => {
    expect(canTransition(name, status)).toBe(expected);
  });

  test('no transition leaves a terminal status, every non-terminal status has a way out, none goes back to QUEUED', () => {
    for (const status of all.filter((s) => !TERMINAL_STATUSES.includes(s))) {
      expect((Object.keys(TRANSITIONS) as TransitionName[]).some((name) => canTransition(name, status))).toBe(true);
    }
    for (const terminal of TERMINAL_STATUSES) {
      for (const name of Object.keys(TRANSITIONS) as TransitionName[]) expect(canTransition(name, terminal)).toBe(false);
    }
    expect(Object.values(TRANSITIONS).map((transition) => transition.to)).not.toContain('queued');
  });

  test('stored and GraphQL spellings round-trip', () => {
    for (const status of COMMAND_STATUSES) expect(fromStored(toStored(status))).toBe(status);
  });
});

describe('classifyAck', () => {
  const target = (status: StoredStatus, handedToBroker = true, live = true): AckTarget => ({ status, handedToBroker, live });
  const cases: Array<[string, AckTarget | null, AckOutcome]> = [
    ['no such command of that device (foreign or unknown)', null, 'unknown'],
    ['queued, never handed to the broker', target('queued', false), 'unknown'],
    ['queued, handed over (the ack overtook the PUBACK record)', target('queued'), 'applied'],
    ['sent, within TTL', target('sent'), 'applied'],
    ['sent, TTL passed before the worker ran', target('sent', true, false), 'late'],
    ['queued and handed over, TTL passed', target('queued', true, false), 'late'],
    ['delivered already (a redelivery)', target('delivered'), 'duplicate'],
    ['failed already (a second verdict)', target('failed'), 'duplicate'],
    ['missed', target('missed'), 'late'],
    ['expired', target('expired', false, false), 'late'],
    ['cancelled', target('cancelled', false), 'late'],
  ];
  test.each(cases)('%s → %s', (_name, found, expected) => {
    expect(classifyAck(found)).toBe(expected);
  });
});
