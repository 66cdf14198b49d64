import { type DbLike, prismaOf } from './client.ts';

/** The demo machines `npm start` creates on an empty database. */
export const DEMO_MACHINES = [
  { name: 'Eight Ball Deluxe', shortName: 'EBD', location: 'Main floor' },
  { name: 'The Addams Family', shortName: 'TAF', location: 'Main floor' },
  { name: 'Medieval Madness', shortName: 'MM', location: 'Back room' },
  { name: 'Attack from Mars', shortName: 'AFM', location: 'Workshop' },
] as const;

/**
 * Adds the demo machines the first time only: a database that has any
 * machine is left alone (so deleting a demo machine does not bring it back).
 * Safe to run concurrently and repeatedly.
 */
export async function seedDemo(db: DbLike): Promise<{ created: number }> {
  const prisma = prismaOf(db);
  if ((await prisma.machine.count()) > 0) return { created: 0 };
  const { count } = await prisma.machine.createMany({
    data: DEMO_MACHINES.map((m) => ({ ...m })),
    skipDuplicates: true,
  });
  return { created: count };
}
