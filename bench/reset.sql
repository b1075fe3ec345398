-- Takes the chat tables back to the grown history (psql -v last_history_chat=ID), then vacuums and
-- checkpoints them, so that every measured round starts from the same database (bench/run.sh's
-- settle). Without it each round ran on a larger table than the one before, and pgbench's
-- PostgreSQL CPU per transaction rose pass after pass with it. Foreign key triggers are skipped
-- for the delete: the web app's link table has no index on the chat id, and each deleted chat
-- would scan it; the links go first, by hand.
SET session_replication_role = replica;
DELETE FROM public.project_chat_conversation WHERE chat_conversation_id > :last_history_chat;
DELETE FROM public.chat_conversation WHERE id > :last_history_chat;
DELETE FROM neptun_chat_service.idempotency_key;
RESET session_replication_role;
VACUUM public.chat_conversation, public.project_chat_conversation, neptun_chat_service.idempotency_key;
CHECKPOINT;
