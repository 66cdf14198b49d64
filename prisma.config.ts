import { defineConfig } from 'prisma/config';

// Prisma 7 keeps connection URLs out of schema.prisma. The CLI (`prisma migrate
// deploy` on a machine that has the schema engine) reads it from here; the app
// itself connects through @prisma/adapter-pg (packages/db).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/flipfix',
  },
});
