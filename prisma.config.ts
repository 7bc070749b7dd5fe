import { defineConfig } from 'prisma/config';

/**
 * Prisma CLI configuration.
 *
 * Prisma 7 reads neither `.env` nor a `url` in `schema.prisma`; the URL lives here. `prisma generate`
 * never connects, so without `DATABASE_URL` a placeholder that points nowhere keeps it working
 * offline and in CI. The migrations in `prisma/migrations` are applied by the project's own runner
 * (see docs/data-model.md); on a machine with internet `prisma migrate deploy` sees the same history.
 */
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://placeholder@localhost:5432/placeholder',
  },
});
