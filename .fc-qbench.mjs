const { openDatabase } = await import('./dist/db/database.js');
const { createLogger } = await import('./dist/logger.js');
const { database } = await openDatabase({ kind: 'pglite', dataDir: '/tmp/fc-new' }, createLogger('silent'));
const run = async (n) => { const c = process.cpuUsage(); for (let i = 0; i < n; i++) { await database.prisma.device.findMany({ take: 20, include: { tags: true, state: true } }); await database.prisma.$queryRaw`SELECT d.device_id, count(*) FROM device_registry d JOIN device_state s USING (tenant_id, device_id) GROUP BY 1`; } const d = process.cpuUsage(c); return (d.user + d.system) / 1000 / n; };
await run(50);
const ms = await run(200);
globalThis.gc?.();
console.log(`${process.execArgv.join(' ') || 'default'}: ${ms.toFixed(2)} ms CPU per iteration, rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`);
await database.close();
