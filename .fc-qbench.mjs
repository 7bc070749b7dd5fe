const { openDatabase } = await import('./dist/db/database.js');
const { createLogger } = await import('./dist/logger.js');
const { database } = await openDatabase({ kind: 'pglite', dataDir: '/tmp/fc-new' }, createLogger('silent'));
const run = async (n) => { const t = performance.now(); for (let i = 0; i < n; i++) { await database.prisma.device.findMany({ take: 20, include: { tags: true, state: true } }); await database.prisma.$queryRaw`SELECT d.device_id, count(*) FROM device_registry d JOIN device_state s USING (tenant_id, device_id) GROUP BY 1`; } return (performance.now() - t) / n; };
await run(50);
const ms = await run(200);
globalThis.gc?.();
console.log(`${process.execArgv.join(' ') || 'default'}: ${ms.toFixed(2)} ms per iteration, rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`);
await database.close();
