-- The rights of the role the running service connects as (the Deployment's Secret "neptun-chat"):
-- the least that serving needs, no DDL. The migrating role (the Job's Secret "neptun-chat-migrate")
-- is another one: it creates and owns the schema neptun_chat_service, and needs CREATE on the
-- database (docs/operations.md, "Database roles").
--
-- Run it as the owner of the web app's tables (or a superuser), in the web app's database, once the
-- migration Job has completed, and again after a migration that adds a table. It only grants, so it
-- can be run any number of times; create the role first (CREATE ROLE neptun_chat LOGIN PASSWORD ...):
--   psql -v ON_ERROR_STOP=1 -v service_role=neptun_chat -f deploy/postgres/roles.sql "$ADMIN_DATABASE_URL"
-- tests/Neptun.Chat.Service.IntegrationTests/Database/ServiceRoleTests.cs runs the service as a role
-- with these rights alone.
\set ON_ERROR_STOP on

GRANT CONNECT ON DATABASE :"DBNAME" TO :"service_role";
GRANT USAGE ON SCHEMA public TO :"service_role";

-- A create checks that the user owns the project, draws the chat's id from the chat table's own
-- sequence, and inserts the chat and its link. The ownership check locks the user's row and the
-- project's (FOR KEY SHARE, so that one deleted meanwhile is "not found", not a foreign key error),
-- and PostgreSQL lets a role lock rows only where it may update a column: UPDATE on updated_at
-- alone is the least that allows it (the cost: the role could touch those two timestamps, never
-- an id, an owner or a name). Types (ai_model_enum), pg_catalog (the model list) and the
-- functions used (pg_postmaster_start_time) are open to every role already.
GRANT SELECT, UPDATE (updated_at) ON public.neptun_user, public.neptun_user_project TO :"service_role";
GRANT INSERT ON public.chat_conversation, public.project_chat_conversation TO :"service_role";
GRANT USAGE ON SEQUENCE public.chat_conversation_id_seq TO :"service_role";

-- The service's own schema: the request ids of idempotent creates (read, written, taken over when
-- expired, purged), and the migration journal, which readiness reads to know the schema is there.
GRANT USAGE ON SCHEMA neptun_chat_service TO :"service_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON neptun_chat_service.idempotency_key TO :"service_role";
GRANT SELECT ON neptun_chat_service.schema_versions TO :"service_role";
