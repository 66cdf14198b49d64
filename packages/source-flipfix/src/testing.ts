/**
 * Test support: a database with Flipfix's schema (the fixture written from
 * Flipfix's migrations, see test/fixtures/flipfix-schema.sql) and a writer
 * that saves records the way Flipfix's Django forms do: one transaction per
 * form save, the record first, then its many-to-many rows and media rows,
 * every value filled by the application (Django sets no database defaults).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CreateTestDatabaseOptions, createTestDatabase, type TestDatabase } from '@flipfix/db';
import pg from 'pg';
import { createFlipfixSource, FLIPFIX_SCHEMA } from './index.ts';

/** The fixture: Flipfix's tables as its migrations leave them, for the tables the source reads. */
export const FLIPFIX_FIXTURE_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'flipfix-schema.sql');

/** The fixture's SQL. */
export function flipfixFixtureSql(): string {
  return readFileSync(FLIPFIX_FIXTURE_PATH, 'utf8');
}

/**
 * A fresh database holding Flipfix's schema with the Flipfix source installed
 * (`db:migrate` with SOURCE=flipfix); `db` is opened on our schema.
 */
export function createFlipfixTestDatabase(options: Pick<CreateTestDatabaseOptions, 'baseUrl' | 'max'> = {}): Promise<TestDatabase> {
  return createTestDatabase({
    ...options,
    setupSql: flipfixFixtureSql(),
    schema: FLIPFIX_SCHEMA,
    migrationsDir: createFlipfixSource().migrationsDirs,
  });
}

export interface DjangoUser {
  userId: number;
  maintainerId: number;
}

/** Media given to a save: the stored file name and its thumbnail's (Flipfix's upload_to paths). */
export interface MediaInput {
  file: string;
  thumbnail?: string | null;
  mediaType?: 'photo' | 'video';
  displayOrder?: number | null;
}

/**
 * Writes Flipfix's tables as its Django app would, over a connection of its
 * own (Django's, with the default search_path). Each method is one form
 * save: one transaction.
 */
export class DjangoWriter {
  readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** One transaction (Django's `transaction.atomic()` around a form save). */
  async atomic<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** A user and their Maintainer profile (Flipfix's invitation sign-up). */
  user(input: { username: string; firstName?: string; lastName?: string }): Promise<DjangoUser> {
    return this.atomic(async (c) => {
      const { rows } = await c.query<{ id: number }>(
        `INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
         VALUES ('!', NULL, false, $1, $2, $3, '', false, true, now()) RETURNING id`,
        [input.username, input.firstName ?? '', input.lastName ?? ''],
      );
      const userId = rows[0]!.id;
      const m = await c.query<{ id: string }>(
        `INSERT INTO accounts_maintainer (created_at, updated_at, user_id, is_shared_account, bio, last_active_at)
         VALUES (now(), now(), $1, false, '', NULL) RETURNING id`,
        [userId],
      );
      return { userId, maintainerId: Number(m.rows[0]!.id) };
    });
  }

  /** A DiscordUserLink (the bot links a Discord user to a maintainer). */
  async linkDiscord(maintainerId: number, input: { discordUserId: string; username: string; displayName?: string }): Promise<void> {
    await this.atomic((c) =>
      c.query(
        `INSERT INTO discord_discorduserlink (created_at, updated_at, discord_user_id, discord_username, discord_display_name, discord_avatar_url, maintainer_id)
         VALUES (now(), now(), $1, $2, $3, '', $4)`,
        [input.discordUserId, input.username, input.displayName ?? '', maintainerId],
      ),
    );
  }

  /** A machine model and one instance of it (Flipfix's "new machine" form). */
  machine(input: { name: string; slug: string; shortName?: string | null; modelName?: string }): Promise<number> {
    return this.atomic(async (c) => {
      const model = input.modelName ?? input.name;
      const { rows } = await c.query<{ id: string }>(
        `INSERT INTO catalog_machinemodel (created_at, updated_at, name, slug, manufacturer, month, year, era, system, scoring,
            flipper_count, pinside_rating, ipdb_id, production_quantity, factory_address, design_credit, concept_and_design_credit,
            art_credit, sound_credit, educational_text, illustration_filename, sources_notes, sort_name, created_by_id, updated_by_id)
         VALUES (now(), now(), $1, $2, '', NULL, NULL, '', '', '', NULL, NULL, NULL, NULL, '', '', '', '', '', '', '', '', $1, NULL, NULL)
         RETURNING id`,
        [model, `${input.slug}-model`],
      );
      const inst = await c.query<{ id: string }>(
        `INSERT INTO catalog_machineinstance (created_at, updated_at, asset_id, model_id, slug, name, short_name, serial_number,
            acquisition_notes, owner_id, location_id, operational_status, created_by_id, updated_by_id)
         VALUES (now(), now(), $1, $2, $3, $4, $5, '', '', NULL, NULL, 'unknown', NULL, NULL) RETURNING id`,
        [`M${Math.floor(Math.random() * 1e8)}`, rows[0]!.id, input.slug, input.name, input.shortName ?? null],
      );
      return Number(inst.rows[0]!.id);
    });
  }

  /** The public or maintainer problem report form. */
  problemReport(input: {
    machineId: number;
    description: string;
    problemType?: string;
    priority?: string;
    reporterName?: string;
    reporterContact?: string;
    reportedByUserId?: number | null;
    media?: MediaInput[];
  }): Promise<number> {
    return this.atomic(async (c) => {
      const { rows } = await c.query<{ id: string }>(
        `INSERT INTO maintenance_problemreport (created_at, updated_at, status, problem_type, description, reported_by_name,
            reported_by_contact, device_info, ip_address, machine_id, reported_by_user_id, occurred_at, priority)
         VALUES (now(), now(), 'open', $1, $2, $3, $4, '', NULL, $5, $6, now(), $7) RETURNING id`,
        [
          input.problemType ?? 'other',
          input.description,
          input.reporterName ?? '',
          input.reporterContact ?? '',
          input.machineId,
          input.reportedByUserId ?? null,
          input.priority ?? (input.reportedByUserId ? 'minor' : 'untriaged'),
        ],
      );
      const id = Number(rows[0]!.id);
      await insertMedia(c, 'maintenance_problemreportmedia', 'problem_report_id', id, input.media);
      return id;
    });
  }

  /** The log entry form: the entry, then its maintainers (m2m), then its media. */
  logEntry(input: {
    machineId: number;
    text: string;
    maintainerIds?: number[];
    maintainerNames?: string;
    createdByUserId?: number | null;
    problemReportId?: number | null;
    media?: MediaInput[];
  }): Promise<number> {
    return this.atomic((c) => insertLogEntry(c, input));
  }

  /**
   * Closing (or reopening) a problem report as Flipfix does: the status
   * change and the "Closed problem report" log entry, in one transaction.
   */
  setProblemReportStatus(id: number, status: 'open' | 'closed', by: DjangoUser): Promise<number> {
    return this.atomic(async (c) => {
      const { rows } = await c.query<{ machine_id: string }>(
        `UPDATE maintenance_problemreport SET status = $2, updated_at = now() WHERE id = $1 RETURNING machine_id`,
        [id, status],
      );
      return insertLogEntry(c, {
        machineId: Number(rows[0]!.machine_id),
        text: status === 'closed' ? 'Closed problem report' : 'Re-opened problem report',
        maintainerIds: [by.maintainerId],
        createdByUserId: by.userId,
        problemReportId: id,
      });
    });
  }

  /** The parts request form. */
  partRequest(input: { text: string; machineId?: number | null; requestedById?: number | null; requestedByName?: string; media?: MediaInput[] }): Promise<number> {
    return this.atomic(async (c) => {
      const { rows } = await c.query<{ id: string }>(
        `INSERT INTO parts_partrequest (created_at, updated_at, text, status, machine_id, requested_by_id, requested_by_name, occurred_at)
         VALUES (now(), now(), $1, 'requested', $2, $3, $4, now()) RETURNING id`,
        [input.text, input.machineId ?? null, input.requestedById ?? null, input.requestedByName ?? ''],
      );
      const id = Number(rows[0]!.id);
      await insertMedia(c, 'parts_partrequestmedia', 'part_request_id', id, input.media);
      return id;
    });
  }

  /**
   * An update on a part request, as PartRequestUpdate.save: inside one
   * transaction the request's status first (when the update changes it),
   * then the update, then its media.
   */
  partRequestUpdate(input: {
    partRequestId: number;
    text: string;
    newStatus?: string;
    postedById?: number | null;
    postedByName?: string;
    media?: MediaInput[];
  }): Promise<number> {
    return this.atomic(async (c) => {
      if (input.newStatus) {
        await c.query(`UPDATE parts_partrequest SET status = $2, updated_at = now() WHERE id = $1 AND status <> $2`, [input.partRequestId, input.newStatus]);
      }
      const { rows } = await c.query<{ id: string }>(
        `INSERT INTO parts_partrequestupdate (created_at, updated_at, text, new_status, part_request_id, posted_by_id, posted_by_name, occurred_at)
         VALUES (now(), now(), $1, $2, $3, $4, $5, now()) RETURNING id`,
        [input.text, input.newStatus ?? '', input.partRequestId, input.postedById ?? null, input.postedByName ?? ''],
      );
      const id = Number(rows[0]!.id);
      await insertMedia(c, 'parts_partrequestupdatemedia', 'update_id', id, input.media);
      return id;
    });
  }

  /**
   * A log entry the Discord bot made from a Discord message: its
   * `create_record` saves the record and then marks the source message
   * processed (a DiscordMessageMapping row), in one transaction.
   */
  logEntryFromDiscord(input: { machineId: number; text: string; maintainerIds?: number[]; createdByUserId?: number | null }, messageId: string): Promise<number> {
    return this.atomic(async (c) => {
      const id = await insertLogEntry(c, input);
      await c.query(
        `INSERT INTO discord_discordmessagemapping (discord_message_id, object_id, created_at, content_type_id)
         SELECT $1, $2, now(), id FROM django_content_type WHERE app_label = 'maintenance' AND model = 'logentry'`,
        [messageId, id],
      );
      return id;
    });
  }
}

async function insertLogEntry(
  c: pg.PoolClient,
  input: { machineId: number; text: string; maintainerIds?: number[]; maintainerNames?: string; createdByUserId?: number | null; problemReportId?: number | null; media?: MediaInput[] },
): Promise<number> {
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO maintenance_logentry (created_at, updated_at, text, maintainer_names, machine_id, occurred_at, created_by_id,
        problem_report_id, time_spent, submission_id)
     VALUES (now(), now(), $1, $2, $3, now(), $4, $5, 0, gen_random_uuid()) RETURNING id`,
    [input.text, input.maintainerNames ?? '', input.machineId, input.createdByUserId ?? null, input.problemReportId ?? null],
  );
  const id = Number(rows[0]!.id);
  for (const maintainerId of input.maintainerIds ?? []) {
    await c.query('INSERT INTO maintenance_logentry_maintainers (logentry_id, maintainer_id) VALUES ($1, $2)', [id, maintainerId]);
  }
  await insertMedia(c, 'maintenance_logentrymedia', 'log_entry_id', id, input.media);
  return id;
}

async function insertMedia(c: pg.PoolClient, table: string, parentColumn: string, parentId: number, media: MediaInput[] | undefined): Promise<void> {
  for (const [i, m] of (media ?? []).entries()) {
    await c.query(
      `INSERT INTO ${table} (created_at, updated_at, media_type, file, thumbnail_file, transcoded_file, poster_file, transcode_status,
          duration, display_order, ${parentColumn})
       VALUES (now(), now(), $1, $2, $3, NULL, NULL, 'pending', NULL, $4, $5)`,
      [m.mediaType ?? 'photo', m.file, m.thumbnail === undefined ? m.file : m.thumbnail, m.displayOrder === undefined ? i : m.displayOrder, parentId],
    );
  }
}
