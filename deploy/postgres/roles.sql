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
-- sequence, and inserts the chat and its link. neptun_user is not read: foreign-key checks run with
-- the rights of the tables' owner. Types (ai_model_enum), pg_catalog (the model list) and the
-- functions used (pg_xact_status, pg_terminate_backend of the service's own sessions) are open to
-- every role already.
GRANT SELECT ON public.neptun_user_project TO :"service_role";
GRANT INSERT ON public.chat_conversation, public.project_chat_conversation TO :"service_role";
GRANT USAGE ON SEQUENCE public.chat_conversation_id_seq TO :"service_role";

-- The service's own schema: the request ids of idempotent creates (read, written, taken over when
-- expired, purged), and the migration journal, which readiness reads to know the schema is there.
GRANT USAGE ON SCHEMA neptun_chat_service TO :"service_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON neptun_chat_service.idempotency_key TO :"service_role";
GRANT SELECT ON neptun_chat_service.schema_versions TO :"service_role";
