-- pgbench script: the service's one create statement (Database/ChatRepository.cs), for user 1's
-- project 1, so that the cost of preparing it or not, directly or through PgBouncer, is measured.
WITH owned_project AS (
    SELECT id FROM public.neptun_user_project WHERE id = 1 AND neptun_user_id = 1
), created_chat AS (
    INSERT INTO public.chat_conversation (name, model, neptun_user_id, created_at, updated_at)
    SELECT 'Bench chat', 'google/gemma-2-27b-it'::public.ai_model_enum, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM owned_project
    RETURNING id, neptun_user_id, model, name, created_at, updated_at
), project_link AS (
    INSERT INTO public.project_chat_conversation (project_id, chat_conversation_id, created_at)
    SELECT owned_project.id, created_chat.id, created_chat.created_at FROM owned_project CROSS JOIN created_chat
)
SELECT id, neptun_user_id, model::text, name, created_at, updated_at FROM created_chat;
