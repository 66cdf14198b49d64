/**
 * The privileges the Flipfix source needs, as SQL an operator runs once as
 * Flipfix's database owner (README, "Attach to a Flipfix database"). The
 * tests run the source under a role given exactly these.
 */

/** Flipfix's tables the source reads (records, media, names, echo marks). */
export const FLIPFIX_READ_TABLES = [
  'auth_user',
  'accounts_maintainer',
  'django_content_type',
  'catalog_machinemodel',
  'catalog_machineinstance',
  'maintenance_problemreport',
  'maintenance_problemreportmedia',
  'maintenance_logentry',
  'maintenance_logentry_maintainers',
  'maintenance_logentrymedia',
  'parts_partrequest',
  'parts_partrequestmedia',
  'parts_partrequestupdate',
  'parts_partrequestupdatemedia',
  'discord_discorduserlink',
  'discord_discordmessagemapping',
] as const;

/** Flipfix's tables that get our capture triggers. */
export const FLIPFIX_TRIGGER_TABLES = ['maintenance_problemreport', 'maintenance_logentry', 'parts_partrequest', 'parts_partrequestupdate'] as const;

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * GRANTs for `role` on Flipfix's database `database`: connect, create its
 * own schema, read the tables above, create triggers on four of them.
 * Nothing more: no INSERT, UPDATE or DELETE on any Flipfix table, no
 * ownership, no superuser.
 */
export function flipfixGrantsSql(role: string, database: string): string {
  const r = ident(role);
  return [
    `GRANT CONNECT, CREATE ON DATABASE ${ident(database)} TO ${r};`,
    `GRANT USAGE ON SCHEMA public TO ${r};`,
    `GRANT SELECT ON ${FLIPFIX_READ_TABLES.map((t) => `public.${t}`).join(', ')} TO ${r};`,
    `GRANT TRIGGER ON ${FLIPFIX_TRIGGER_TABLES.map((t) => `public.${t}`).join(', ')} TO ${r};`,
  ].join('\n');
}
