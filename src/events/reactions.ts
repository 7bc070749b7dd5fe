/**
 * Event reactions: a module's work that follows another module's committed change (a device came
 * ONLINE → publish its held commands). They run in the process that committed the change, after
 * commit, never inside the writer's transaction, so a slow or failing reaction cannot undo or
 * delay the change. A crash between commit and reaction loses the reaction: a module whose
 * reaction must not be lost also sweeps for missed work (a worker or a start-up task).
 */
import type { SessionRunner } from '../db/tenant-session.js';
import type { Logger } from '../logger.js';
import type { AppServices } from '../services.js';
import type { PulseEventName, PulseEvents } from './events.js';

export interface ReactionContext {
  runner: SessionRunner;
  services: AppServices;
  logger: Logger;
}

export interface EventReaction<K extends PulseEventName = PulseEventName> {
  /** For logs and metrics. */
  name: string;
  event: K;
  react(payload: PulseEvents[K], context: ReactionContext): Promise<void>;
}

export type AnyEventReaction = { [K in PulseEventName]: EventReaction<K> }[PulseEventName];

export function defineReaction<K extends PulseEventName>(reaction: EventReaction<K>): EventReaction<K> {
  return reaction;
}

export interface ReactionDispatcher {
  dispatch<K extends PulseEventName>(name: K, payload: PulseEvents[K]): void;
  /** Resolves when every reaction started so far has finished (tests await this, not sleeps). */
  idle(): Promise<void>;
}

/** Runs each matching reaction on its own, logging failures; `context` is bound once the app has built it. */
export function createReactionDispatcher(reactions: readonly AnyEventReaction[], context: () => ReactionContext): ReactionDispatcher {
  const byEvent = new Map<string, AnyEventReaction[]>();
  for (const reaction of reactions) byEvent.set(reaction.event, [...(byEvent.get(reaction.event) ?? []), reaction]);
  const running = new Set<Promise<void>>();
  return {
    dispatch(name, payload) {
      for (const reaction of byEvent.get(name) ?? []) {
        const ctx = context();
        const run = (reaction as EventReaction<typeof name>)
          .react(payload, ctx)
          .catch((error: unknown) => ctx.logger.error({ err: error, reaction: reaction.name }, 'event reaction failed'))
          .finally(() => running.delete(run));
        running.add(run);
      }
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
