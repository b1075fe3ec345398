-- Brings the chat tables to 1,000,000 chats (and their project links) spread over every project.
WITH chats AS (
    INSERT INTO public.chat_conversation (name, model, neptun_user_id)
    SELECT 'Older chat ' || g, 'google/gemma-2-27b-it', (g % 1000) + 1
    FROM generate_series(1, 1000000 - (SELECT count(*) FROM public.chat_conversation)) AS g
    RETURNING id, neptun_user_id
)
INSERT INTO public.project_chat_conversation (project_id, chat_conversation_id)
SELECT (neptun_user_id - 1) * 5 + (id % 5) + 1, id FROM chats;

VACUUM ANALYZE;
