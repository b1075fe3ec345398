-- The part of the Neptun web app's schema that this service reads and writes, created only where it
-- is absent. The web app (drizzle) owns these objects in production: nothing here alters one that
-- exists, so running this against the production database is a no-op.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = 'public' AND t.typname = 'ai_model_enum') THEN
        CREATE TYPE public.ai_model_enum AS ENUM (
            'google/gemma-2-27b-it',
            'qwen/Qwen2.5-72B-Instruct',
            'qwen/Qwen2.5-Coder-32B-Instruct',
            'deepseek-ai/DeepSeek-R1-Distill-Qwen-32B',
            'mistralai/Mistral-Nemo-Instruct-2407',
            'mistralai/Mistral-7B-Instruct-v0.3',
            'microsoft/Phi-3-mini-4k-instruct',
            'cloudflare/llama-3.3-70b-instruct-fp8-fast',
            'openrouter/gemini-2.0-pro-exp-02-05',
            'openrouter/deepseek-chat',
            'openrouter/llama-3.3-70b-instruct',
            'ollama/rwkv-6-world');
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = 'public' AND t.typname = 'project_type') THEN
        CREATE TYPE public.project_type AS ENUM ('web-site', 'web-service', 'web-app');
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = 'public' AND t.typname = 'programming_language') THEN
        CREATE TYPE public.programming_language AS ENUM (
            'typescript', 'javascript', 'php', 'go', 'python', 'java', 'kotlin', 'ruby', 'elixir');
    END IF;
END
$$;

-- neptun_user keeps the sequence and key names of its earlier name, chat_user, as production does.
CREATE SEQUENCE IF NOT EXISTS public.chat_user_id_seq AS integer;

CREATE TABLE IF NOT EXISTS public.neptun_user (
    id integer NOT NULL DEFAULT nextval('public.chat_user_id_seq'::regclass),
    primary_email text NOT NULL,
    hashed_password text,
    created_at timestamp without time zone DEFAULT now(),
    updated_at timestamp without time zone DEFAULT now(),
    CONSTRAINT chat_user_pkey PRIMARY KEY (id),
    CONSTRAINT neptun_user_primary_email_unique UNIQUE (primary_email)
);

CREATE TABLE IF NOT EXISTS public.neptun_user_project (
    id serial PRIMARY KEY,
    name text NOT NULL,
    description text,
    type public.project_type NOT NULL,
    main_language public.programming_language NOT NULL,
    created_at timestamp without time zone DEFAULT now(),
    updated_at timestamp without time zone DEFAULT now(),
    neptun_user_id integer NOT NULL REFERENCES public.neptun_user (id) ON DELETE CASCADE,
    prompt_context jsonb
);

CREATE TABLE IF NOT EXISTS public.chat_conversation (
    id serial PRIMARY KEY,
    name text NOT NULL,
    model public.ai_model_enum NOT NULL,
    created_at timestamp without time zone DEFAULT now(),
    updated_at timestamp without time zone DEFAULT now(),
    neptun_user_id integer NOT NULL REFERENCES public.neptun_user (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS public.project_chat_conversation (
    project_id integer NOT NULL REFERENCES public.neptun_user_project (id) ON DELETE CASCADE,
    chat_conversation_id integer NOT NULL REFERENCES public.chat_conversation (id) ON DELETE CASCADE,
    created_at timestamp without time zone DEFAULT now()
);
