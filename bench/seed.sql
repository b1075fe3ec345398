-- 1,000 users with 5 projects each; user N owns projects 5(N-1)+1 .. 5N, which the load scripts rely on.
INSERT INTO public.neptun_user (id, primary_email)
SELECT u, 'user' || u || '@bench.test' FROM generate_series(1, 1000) AS u;
SELECT setval('public.chat_user_id_seq', 1000);

INSERT INTO public.neptun_user_project (id, name, type, main_language, neptun_user_id)
SELECT (u - 1) * 5 + k, 'Project ' || k, 'web-app', 'typescript', u
FROM generate_series(1, 1000) AS u, generate_series(1, 5) AS k;
SELECT setval(pg_get_serial_sequence('public.neptun_user_project', 'id'), 5000);

VACUUM ANALYZE;
