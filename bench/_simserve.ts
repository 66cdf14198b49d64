import { startSimulator } from '@flipfix/discord-sim';
const sim = await startSimulator({ port: 4999, maxMessagesPerChannel: 200_000, rateLimits: { perChannel: null, global: null, perRoute: null } });
console.log('sim ready');
let c0 = process.cpuUsage(); let t0 = Date.now();
setInterval(() => { const u = process.cpuUsage(c0); console.log('sim busy %', Math.round((u.user + u.system) / 10 / (Date.now() - t0))); c0 = process.cpuUsage(); t0 = Date.now(); }, 2000).unref();
process.on('SIGTERM', async () => { await sim.close(); process.exit(0); });
