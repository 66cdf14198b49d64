// Runs `prisma generate` for packages/db. Generation itself needs no engine,
// but the CLI insists on locating a schema engine binary first and tries to
// download one when none is present, which fails offline. Generate never
// executes that binary, so unless the caller chose one we point the variable at
// an existing file (node itself): the same command works offline and online.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const schema = path.join(root, 'prisma', 'schema.prisma');
if (!existsSync(schema)) process.exit(0);

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
const run = (extra) =>
  spawnSync(process.execPath, [path.join(root, 'node_modules', 'prisma', 'build', 'index.js'), 'generate', '--schema', schema], {
    cwd: root,
    env: { ...env, ...extra },
    stdio: 'inherit',
  });

let result = process.env.PRISMA_SCHEMA_ENGINE_BINARY ? run({}) : run({ PRISMA_SCHEMA_ENGINE_BINARY: process.execPath });
if (result.status !== 0) {
  console.error('prisma generate failed');
  process.exit(result.status ?? 1);
}
