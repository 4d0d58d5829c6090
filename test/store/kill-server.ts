// A customer-services server on a SQLite file, for the crash test: prints one JSON line when it
// serves, then runs until killed. Usage: node --import tsx test/store/kill-server.ts DB_PATH
import { serveCustomerServices } from '../../src/services/serve.js';

const path = process.argv[2];
if (!path) throw new Error('usage: kill-server.ts DB_PATH');
const s = await serveCustomerServices({ store: `sqlite:${path}`, bootstrap: { adminToken: process.env.KILL_ADMIN_TOKEN } });
process.stdout.write(`${JSON.stringify({ url: s.url, ders: [...s.registry!.registry.allDers()].length, groups: [...s.registry!.registry.allGroups()].map((g) => ({ id: g.mRID, members: g.members })) })}\n`);
