import { builder } from '../../graphql/builder.js';
import { INTERFACE_KINDS } from './interfaces.js';
import { LINK_STATES, LINK_TRANSITION_REASONS } from './state-machine.js';

/** GraphQL enums in upper case over the lower-case values the tables store. */
function lowerCaseValues<const T extends readonly string[]>(values: T, descriptions: Partial<Record<T[number], string>> = {}) {
  return Object.fromEntries(
    values.map((value) => [value.toUpperCase(), { value, description: descriptions[value as T[number]] }]),
  ) as { [V in T[number] as Uppercase<V>]: { value: V; description?: string } };
}

export const WirelessLinkStateEnum = builder.enumType('WirelessLinkState', {
  values: lowerCaseValues(LINK_STATES, {
    discovered: 'Seen, not yet confirmed (first sighting, or back after DOWN or STALE)',
    active: 'Seen in K consecutive polls with signal and SNR at or above the recover thresholds',
    degraded: 'Seen with signal or SNR below a degrade threshold',
    down: 'Missing from M consecutive polls of its AP radio, or the radio stopped reporting',
    stale: 'Not seen for the stale age, or its AP is OFFLINE',
  }),
});

export const WirelessLinkTransitionReasonEnum = builder.enumType('WirelessLinkTransitionReason', {
  values: Object.fromEntries(LINK_TRANSITION_REASONS.map((reason) => [reason, {}])) as Record<(typeof LINK_TRANSITION_REASONS)[number], object>,
});

export const InterfaceKindEnum = builder.enumType('InterfaceKind', { values: lowerCaseValues(INTERFACE_KINDS) });
