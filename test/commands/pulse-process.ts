/**
 * Child-process entry of the restart tests: Pulse as `main.ts` would start it, until it is killed.
 * On `{ watch: tenantId }` it forwards that tenant's commandStatusChanged events to the parent
 * (after commit, as subscribers get them), answering `{ watching }` once its listener is attached.
 */
import { createLogger } from '../../src/logger.js';
import { loadPulseConfig, startPulse } from '../../src/server.js';
import '../../src/modules/commands/events.js';

const config = loadPulseConfig(process.env);
const pulse = await startPulse(config, createLogger(config.logLevel), { autoStartWorkers: false });

process.on('message', (message: { watch?: string }) => {
  if (!message.watch) return;
  const events = pulse.app.events.subscribe('commandStatusChanged', message.watch)[Symbol.asyncIterator]();
  // The in-process bus attaches its listener when the iterator is first pulled.
  const forward = async (next: Promise<IteratorResult<unknown>>): Promise<void> => {
    for (let result = await next; !result.done; result = await events.next()) process.send?.({ event: result.value });
  };
  void forward(events.next());
  process.send?.({ watching: message.watch });
});
process.send?.({ port: pulse.port });
// A parent that goes away takes this process with it (a SIGKILL is the test's own way out).
process.on('disconnect', () => void pulse.stop().finally(() => process.exit(0)));
