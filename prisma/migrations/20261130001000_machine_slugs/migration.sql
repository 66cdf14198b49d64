-- Machines get a slug, as in Flipfix: unique, derived from the name the way
-- Django's slugify does it (accents folded to ASCII, lower case, anything but
-- letters, digits, "_" and "-" dropped, runs of spaces and dashes as one "-"),
-- "machine" when nothing is left, and "-2", "-3"... on a clash. Record links
-- ([[machine:slug]]) and pages (/machines/<slug>) use it; it can be edited.
--
-- A trigger derives it, so every writer (our API, the legacy app, psql) gets
-- one without knowing the rule; a writer that gives a slug keeps it.

CREATE OR REPLACE FUNCTION "flipfix_slugify"(p_text TEXT)
RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT btrim(
        regexp_replace(
            regexp_replace(lower(regexp_replace(normalize(p_text, NFKD), '[^\u0001-\u007f]', '', 'g')), '[^\w\s-]', '', 'g'),
            '[-\s]+', '-', 'g'),
        '-_')
$$;

CREATE OR REPLACE FUNCTION "flipfix_machine_slug"()
RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    v_base TEXT;
    v_slug TEXT;
    v_n INTEGER := 2;
BEGIN
    IF NEW."slug" IS NOT NULL AND NEW."slug" <> '' THEN
        RETURN NEW;
    END IF;
    v_base := left(COALESCE(NULLIF("flipfix_slugify"(NEW."name"), ''), 'machine'), 90);
    v_slug := v_base;
    WHILE EXISTS (SELECT 1 FROM "machines" WHERE "slug" = v_slug AND "id" IS DISTINCT FROM NEW."id") LOOP
        v_slug := v_base || '-' || v_n;
        v_n := v_n + 1;
    END LOOP;
    NEW."slug" := v_slug;
    RETURN NEW;
END;
$$;

ALTER TABLE "machines" ADD COLUMN "slug" TEXT;

CREATE TRIGGER "machines_slug" BEFORE INSERT OR UPDATE OF "slug" ON "machines"
    FOR EACH ROW EXECUTE FUNCTION "flipfix_machine_slug"();

-- Existing machines, oldest first, so the first of two similar names keeps the plain slug.
DO $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT "id" FROM "machines" ORDER BY "id" LOOP
        UPDATE "machines" SET "slug" = NULL WHERE "id" = r."id";
    END LOOP;
END;
$$;

ALTER TABLE "machines" ALTER COLUMN "slug" SET NOT NULL;

CREATE UNIQUE INDEX "machines_slug_key" ON "machines"("slug");
