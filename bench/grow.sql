-- Brings the chat tables to :target chats (psql -v target=N), with their project links spread over
-- every project, then analyses them: a load test must start on a history of production's size
-- with statistics that know it, or PostgreSQL plans (and caches) scans made for near-empty tables.
WITH chats AS (
    INSERT INTO public.chat_conversation (name, model, neptun_user_id)
    SELECT 'Older chat ' || g, 'google/gemma-2-27b-it', (g % 1000) + 1
    FROM generate_series(1, :target - (SELECT count(*) FROM public.chat_conversation)) AS g
    RETURNING id, neptun_user_id
)
INSERT INTO public.project_chat_conversation (project_id, chat_conversation_id)
SELECT (neptun_user_id - 1) * 5 + (id % 5) + 1, id FROM chats;

VACUUM ANALYZE;

-- Autovacuum would start in whichever round crossed its threshold (a fifth of the table's rows
-- inserted since the last run), and its CPU would count as that round's: each round instead starts
-- from this history again, vacuumed (bench/reset.sql).
ALTER TABLE public.chat_conversation SET (autovacuum_enabled = off);
ALTER TABLE public.project_chat_conversation SET (autovacuum_enabled = off);
ALTER TABLE neptun_chat_service.idempotency_key SET (autovacuum_enabled = off);
