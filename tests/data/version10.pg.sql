SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
COMMENT ON EXTENSION unaccent IS 'text search dictionary that removes accents';
CREATE FUNCTION public.newsdesk_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $_$ SELECT "public".unaccent('public.unaccent'::regdictionary, $1) $_$;
SET default_tablespace = '';
SET default_table_access_method = heap;
CREATE TABLE public.alerts (
    id integer NOT NULL,
    watchlist_id integer NOT NULL,
    entry_id integer NOT NULL,
    channel character varying(16) NOT NULL,
    status character varying(12) NOT NULL,
    attempts integer NOT NULL,
    error text,
    created_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone
);
CREATE SEQUENCE public.alerts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.alerts_id_seq OWNED BY public.alerts.id;
CREATE TABLE public.api_tokens (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    token_hash character varying(64) NOT NULL,
    prefix character varying(16) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    last_used_at timestamp without time zone
);
CREATE SEQUENCE public.api_tokens_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.api_tokens_id_seq OWNED BY public.api_tokens.id;
CREATE TABLE public.categories (
    id integer NOT NULL,
    title character varying(300) NOT NULL
);
CREATE SEQUENCE public.categories_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.categories_id_seq OWNED BY public.categories.id;
CREATE TABLE public.entities (
    id integer NOT NULL,
    kind character varying(16) NOT NULL,
    key character varying(200) NOT NULL,
    name text NOT NULL,
    aliases json NOT NULL,
    mention_count integer NOT NULL,
    entry_count integer NOT NULL,
    first_seen timestamp without time zone,
    last_seen timestamp without time zone
);
CREATE SEQUENCE public.entities_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.entities_id_seq OWNED BY public.entities.id;
CREATE TABLE public.entity_mentions (
    entry_id integer NOT NULL,
    entity_id integer NOT NULL,
    count integer NOT NULL,
    first_offset integer NOT NULL,
    published timestamp without time zone NOT NULL
);
CREATE TABLE public.entries (
    id integer NOT NULL,
    feed_id integer NOT NULL,
    key text NOT NULL,
    url text,
    url_canonical text,
    title text,
    author text,
    kind character varying(16) NOT NULL,
    published timestamp without time zone NOT NULL,
    updated timestamp without time zone,
    first_seen timestamp without time zone NOT NULL,
    content_html text NOT NULL,
    content_text text NOT NULL,
    summary_html text,
    content_hash character varying(64) NOT NULL,
    tags json NOT NULL,
    links json NOT NULL,
    enclosures json NOT NULL,
    reposted_by text,
    reply_to text,
    language character varying(35),
    wants_fulltext boolean NOT NULL,
    fulltext_status character varying(16),
    fulltext_error text,
    page json,
    read boolean NOT NULL,
    starred boolean NOT NULL,
    read_at timestamp without time zone,
    starred_at timestamp without time zone,
    story_id integer,
    changed_at timestamp without time zone,
    search_vector tsvector GENERATED ALWAYS AS (((setweight(to_tsvector('simple'::regconfig, public.newsdesk_unaccent(COALESCE(title, ''::text))), 'A'::"char") || setweight(to_tsvector('simple'::regconfig, public.newsdesk_unaccent(COALESCE(author, ''::text))), 'B'::"char")) || setweight(to_tsvector('simple'::regconfig, public.newsdesk_unaccent(COALESCE(content_text, ''::text))), 'C'::"char"))) STORED
);
CREATE SEQUENCE public.entries_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.entries_id_seq OWNED BY public.entries.id;
CREATE TABLE public.entry_intel (
    entry_id integer NOT NULL,
    content_hash character varying(64) NOT NULL,
    text_length integer NOT NULL,
    version integer NOT NULL,
    entities_model character varying(100),
    done_at timestamp without time zone NOT NULL
);
CREATE TABLE public.entry_links (
    entry_id integer NOT NULL,
    url text NOT NULL,
    "position" integer NOT NULL
);
CREATE TABLE public.entry_signatures (
    entry_id integer NOT NULL,
    minhash bytea,
    title_terms text
);
CREATE TABLE public.entry_tags (
    entry_id integer NOT NULL,
    tag character varying(100) NOT NULL
);
CREATE TABLE public.event_entities (
    event_id integer NOT NULL,
    entity_id integer NOT NULL
);
CREATE TABLE public.events (
    id integer NOT NULL,
    entry_id integer NOT NULL,
    date character varying(10) NOT NULL,
    "precision" character varying(8) NOT NULL,
    sentence text NOT NULL,
    "position" integer NOT NULL
);
CREATE SEQUENCE public.events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.events_id_seq OWNED BY public.events.id;
CREATE TABLE public.feeds (
    id integer NOT NULL,
    url text NOT NULL,
    moved_from text,
    title text,
    custom_title text,
    site_url text,
    category_id integer,
    etag text,
    last_modified text,
    last_status integer,
    last_fetched timestamp without time zone,
    last_success timestamp without time zone,
    error_count integer NOT NULL,
    error_since timestamp without time zone,
    last_error text,
    next_check timestamp without time zone,
    check_interval integer,
    paused boolean NOT NULL,
    paused_reason text,
    pending_url text,
    pending_count integer NOT NULL,
    problems json,
    ttl_minutes integer,
    entries_per_day double precision,
    lease_until timestamp without time zone,
    lease_owner character varying(200),
    created_at timestamp without time zone NOT NULL,
    icon_id integer
);
CREATE SEQUENCE public.feeds_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.feeds_id_seq OWNED BY public.feeds.id;
CREATE TABLE public.icons (
    id integer NOT NULL,
    origin text NOT NULL,
    url text,
    mime_type character varying(40),
    data bytea,
    hash character varying(64),
    checked_at timestamp without time zone NOT NULL,
    fetched_at timestamp without time zone,
    error text
);
CREATE SEQUENCE public.icons_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.icons_id_seq OWNED BY public.icons.id;
CREATE TABLE public.link_cache (
    url text NOT NULL,
    final_url text NOT NULL,
    resolved_at timestamp without time zone NOT NULL
);
CREATE TABLE public.login_throttle (
    key character varying(200) NOT NULL,
    failures integer NOT NULL,
    last_at timestamp without time zone NOT NULL,
    blocked_until timestamp without time zone
);
CREATE TABLE public.pages (
    url text NOT NULL,
    final_url text,
    title text,
    author text,
    published character varying(40),
    site_name text,
    text text,
    html text,
    error text,
    fetched_at timestamp without time zone NOT NULL
);
CREATE TABLE public.saved_searches (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    query text NOT NULL,
    filters json NOT NULL,
    created_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE public.saved_searches_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.saved_searches_id_seq OWNED BY public.saved_searches.id;
CREATE TABLE public.schema_version (
    version integer NOT NULL
);
CREATE TABLE public.stories (
    id integer NOT NULL,
    title text,
    lead_entry_id integer,
    size integer NOT NULL,
    sources integer NOT NULL,
    first_published timestamp without time zone NOT NULL,
    last_published timestamp without time zone NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE public.stories_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.stories_id_seq OWNED BY public.stories.id;
CREATE TABLE public.story_keys (
    key character varying(40) NOT NULL,
    entry_id integer NOT NULL,
    published timestamp without time zone NOT NULL
);
CREATE TABLE public.users (
    id integer NOT NULL,
    username character varying(150) NOT NULL,
    password_hash text NOT NULL,
    fever_verifier character varying(64),
    created_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE public.users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;
CREATE TABLE public.watchlists (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    query text NOT NULL,
    entity_ids json NOT NULL,
    categories json NOT NULL,
    feed_ids json NOT NULL,
    channels json NOT NULL,
    mode character varying(8) NOT NULL,
    enabled boolean NOT NULL,
    created_at timestamp without time zone NOT NULL,
    last_digest_at timestamp without time zone
);
CREATE SEQUENCE public.watchlists_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.watchlists_id_seq OWNED BY public.watchlists.id;
CREATE TABLE public.web_secrets (
    name character varying(64) NOT NULL,
    value text NOT NULL
);
CREATE TABLE public.web_sessions (
    token_hash character varying(64) NOT NULL,
    user_id integer NOT NULL,
    created_at timestamp without time zone NOT NULL,
    expires_at timestamp without time zone NOT NULL
);
ALTER TABLE ONLY public.alerts ALTER COLUMN id SET DEFAULT nextval('public.alerts_id_seq'::regclass);
ALTER TABLE ONLY public.api_tokens ALTER COLUMN id SET DEFAULT nextval('public.api_tokens_id_seq'::regclass);
ALTER TABLE ONLY public.categories ALTER COLUMN id SET DEFAULT nextval('public.categories_id_seq'::regclass);
ALTER TABLE ONLY public.entities ALTER COLUMN id SET DEFAULT nextval('public.entities_id_seq'::regclass);
ALTER TABLE ONLY public.entries ALTER COLUMN id SET DEFAULT nextval('public.entries_id_seq'::regclass);
ALTER TABLE ONLY public.events ALTER COLUMN id SET DEFAULT nextval('public.events_id_seq'::regclass);
ALTER TABLE ONLY public.feeds ALTER COLUMN id SET DEFAULT nextval('public.feeds_id_seq'::regclass);
ALTER TABLE ONLY public.icons ALTER COLUMN id SET DEFAULT nextval('public.icons_id_seq'::regclass);
ALTER TABLE ONLY public.saved_searches ALTER COLUMN id SET DEFAULT nextval('public.saved_searches_id_seq'::regclass);
ALTER TABLE ONLY public.stories ALTER COLUMN id SET DEFAULT nextval('public.stories_id_seq'::regclass);
ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);
ALTER TABLE ONLY public.watchlists ALTER COLUMN id SET DEFAULT nextval('public.watchlists_id_seq'::regclass);
INSERT INTO public.alerts (id, watchlist_id, entry_id, channel, status, attempts, error, created_at, sent_at) VALUES (1, 1, 3, 'ntfy', 'pending', 0, NULL, '2024-05-01 12:00:00', NULL);
INSERT INTO public.api_tokens (id, name, token_hash, prefix, created_at, last_used_at) VALUES (1, 'phone', '2a1b53d31da51a8a35d66c85e9c6eb6b250bcd68e35e4e207bff8cd4b7907454', 'nd_rZNYW', '2026-12-05 00:24:08.31736', NULL);
INSERT INTO public.api_tokens (id, name, token_hash, prefix, created_at, last_used_at) VALUES (2, 'laptop', 'faf69b76661c4a0e3aa887aaa91ebb1be637a7b38c84986052ee04c2bb2f89a4', 'nd_pvfv4', '2026-12-05 00:24:08.323004', NULL);
INSERT INTO public.categories (id, title) VALUES (1, 'World');
INSERT INTO public.categories (id, title) VALUES (2, 'Tech');
INSERT INTO public.categories (id, title) VALUES (3, 'General');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (6, 2, 'http://site1.example/2', 'http://site1.example/2', 'http://site1.example/2', 'Satellite report 1-2', 'Reporter', 'article', '2024-04-30 10:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 1-2 about the satellite, and a harbour too.</p>', 'Story 1-2 about the satellite, and a harbour too.', NULL, '0102000000000000000000000000000000000000000000000000000000000000', '["satellite", "news"]', '["http://site2.example/2"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, false, false, NULL, NULL, NULL, '2024-05-01 12:00:00');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (8, 3, 'http://site2.example/1', 'http://site2.example/1', 'http://site2.example/1', 'Satellite report 2-1', 'Reporter', 'article', '2024-04-29 11:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 2-1 about the satellite, and a election too.</p>', 'Story 2-1 about the satellite, and a election too.', NULL, '0201000000000000000000000000000000000000000000000000000000000000', '["satellite", "news"]', '["http://site3.example/1"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, false, false, NULL, NULL, NULL, '2024-05-01 12:00:00');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (9, 3, 'http://site2.example/2', 'http://site2.example/2', 'http://site2.example/2', 'Orchard report 2-2', 'Reporter', 'article', '2024-04-29 10:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 2-2 about the orchard, and a harbour too.</p>', 'Story 2-2 about the orchard, and a harbour too.', NULL, '0202000000000000000000000000000000000000000000000000000000000000', '["orchard", "news"]', '["http://site3.example/2"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, false, false, NULL, NULL, NULL, '2024-05-01 12:00:00');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (11, 4, 'http://site3.example/1', 'http://site3.example/1', 'http://site3.example/1', 'Orchard report 3-1', 'Reporter', 'post', '2024-04-28 11:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 3-1 about the orchard, and a election too.</p>', 'Story 3-1 about the orchard, and a election too.', NULL, '0301000000000000000000000000000000000000000000000000000000000000', '["orchard", "news"]', '["http://site0.example/1"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, false, false, NULL, NULL, NULL, '2024-05-01 12:00:00');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (12, 4, 'http://site3.example/2', 'http://site3.example/2', 'http://site3.example/2', 'Glacier report 3-2', 'Reporter', 'post', '2024-04-28 10:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 3-2 about the glacier, and a harbour too.</p>', 'Story 3-2 about the glacier, and a harbour too.', NULL, '0302000000000000000000000000000000000000000000000000000000000000', '["glacier", "news"]', '["http://site0.example/2"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, false, false, NULL, NULL, NULL, '2024-05-01 12:00:00');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (1, 1, 'http://site0.example/0', 'http://site0.example/0', 'http://site0.example/0', 'Climate report 0-0', 'Reporter', 'article', '2024-05-01 12:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 0-0 about the climate, and a climate too.</p>', 'Story 0-0 about the climate, and a climate too.', NULL, '0000000000000000000000000000000000000000000000000000000000000000', '["climate", "news"]', '["http://site1.example/0"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, true, false, '2026-12-05 00:24:08.275125', NULL, NULL, '2026-12-05 00:24:08.275125');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (7, 3, 'http://site2.example/0', 'http://site2.example/0', 'http://site2.example/0', 'Harbour report 2-0', 'Reporter', 'article', '2024-04-29 12:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 2-0 about the harbour, and a climate too.</p>', 'Story 2-0 about the harbour, and a climate too.', NULL, '0200000000000000000000000000000000000000000000000000000000000000', '["harbour", "news"]', '["http://site3.example/0"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, false, true, NULL, '2026-12-05 00:24:08.279006', NULL, '2026-12-05 00:24:08.279006');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (10, 4, 'http://site3.example/0', 'http://site3.example/0', 'http://site3.example/0', 'Satellite report 3-0', 'Reporter', 'post', '2024-04-28 12:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 3-0 about the satellite, and a climate too.</p>', 'Story 3-0 about the satellite, and a climate too.', NULL, '0300000000000000000000000000000000000000000000000000000000000000', '["satellite", "news"]', '["http://site0.example/0"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, false, true, NULL, '2026-12-05 00:24:08.279006', NULL, '2026-12-05 00:24:08.279006');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (2, 1, 'http://site0.example/1', 'http://site0.example/1', 'http://site0.example/1', 'Election report 0-1', 'Reporter', 'article', '2024-05-01 11:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 0-1 about the election, and a election too.</p>', 'Story 0-1 about the election, and a election too.', NULL, '0001000000000000000000000000000000000000000000000000000000000000', '["election", "news"]', '["http://site1.example/1"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, true, true, '2026-12-05 00:24:08.275125', '2026-12-05 00:24:08.279006', NULL, '2026-12-05 00:24:08.279006');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (3, 1, 'http://site0.example/2', 'http://site0.example/2', 'http://site0.example/2', 'Harbour report 0-2', 'Reporter', 'article', '2024-05-01 10:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 0-2 about the harbour, and a harbour too.</p>', 'Story 0-2 about the harbour, and a harbour too.', NULL, '0002000000000000000000000000000000000000000000000000000000000000', '["harbour", "news"]', '["http://site1.example/2"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, true, false, '2026-12-05 00:24:08.275125', NULL, NULL, '2026-12-05 00:24:08.275125');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (4, 2, 'http://site1.example/0', 'http://site1.example/0', 'http://site1.example/0', 'Election report 1-0', 'Reporter', 'article', '2024-04-30 12:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 1-0 about the election, and a climate too.</p>', 'Story 1-0 about the election, and a climate too.', NULL, '0100000000000000000000000000000000000000000000000000000000000000', '["election", "news"]', '["http://site2.example/0"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, true, false, '2026-12-05 00:24:08.275125', NULL, NULL, '2026-12-05 00:24:08.275125');
INSERT INTO public.entries (id, feed_id, key, url, url_canonical, title, author, kind, published, updated, first_seen, content_html, content_text, summary_html, content_hash, tags, links, enclosures, reposted_by, reply_to, language, wants_fulltext, fulltext_status, fulltext_error, page, read, starred, read_at, starred_at, story_id, changed_at) VALUES (5, 2, 'http://site1.example/1', 'http://site1.example/1', 'http://site1.example/1', 'Harbour report 1-1', 'Reporter', 'article', '2024-04-30 11:00:00', NULL, '2024-05-01 12:00:00', '<p>Story 1-1 about the harbour, and a election too.</p>', 'Story 1-1 about the harbour, and a election too.', NULL, '0101000000000000000000000000000000000000000000000000000000000000', '["harbour", "news"]', '["http://site2.example/1"]', '[]', NULL, NULL, NULL, false, NULL, NULL, NULL, true, false, '2026-12-05 00:24:08.275125', NULL, NULL, '2026-12-05 00:24:08.275125');
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (1, 'http://site1.example/0', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (2, 'http://site1.example/1', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (3, 'http://site1.example/2', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (4, 'http://site2.example/0', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (5, 'http://site2.example/1', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (6, 'http://site2.example/2', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (7, 'http://site3.example/0', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (8, 'http://site3.example/1', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (9, 'http://site3.example/2', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (10, 'http://site0.example/0', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (11, 'http://site0.example/1', 0);
INSERT INTO public.entry_links (entry_id, url, "position") VALUES (12, 'http://site0.example/2', 0);
INSERT INTO public.entry_tags (entry_id, tag) VALUES (1, 'climate');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (1, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (2, 'election');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (2, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (3, 'harbour');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (3, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (4, 'election');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (4, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (5, 'harbour');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (5, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (6, 'satellite');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (6, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (7, 'harbour');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (7, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (8, 'satellite');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (8, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (9, 'orchard');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (9, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (10, 'satellite');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (10, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (11, 'orchard');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (11, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (12, 'glacier');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (12, 'news');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (1, 'Label:Important');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (5, 'Label:Important');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (5, 'Label:Later');
INSERT INTO public.entry_tags (entry_id, tag) VALUES (11, 'Label:Later');
INSERT INTO public.feeds (id, url, moved_from, title, custom_title, site_url, category_id, etag, last_modified, last_status, last_fetched, last_success, error_count, error_since, last_error, next_check, check_interval, paused, paused_reason, pending_url, pending_count, problems, ttl_minutes, entries_per_day, lease_until, lease_owner, created_at, icon_id) VALUES (1, 'http://news.example/world.xml', NULL, 'Feed 0', 'World desk', NULL, 1, NULL, NULL, 200, '2024-05-01 12:00:00', '2024-05-01 12:00:00', 0, NULL, NULL, NULL, NULL, false, NULL, NULL, 0, '[]', NULL, NULL, NULL, NULL, '2026-12-05 00:24:08.169686', NULL);
INSERT INTO public.feeds (id, url, moved_from, title, custom_title, site_url, category_id, etag, last_modified, last_status, last_fetched, last_success, error_count, error_since, last_error, next_check, check_interval, paused, paused_reason, pending_url, pending_count, problems, ttl_minutes, entries_per_day, lease_until, lease_owner, created_at, icon_id) VALUES (2, 'http://wire.example/feed', NULL, 'Feed 1', NULL, NULL, 1, NULL, NULL, 200, '2024-05-01 12:00:00', '2024-05-01 12:00:00', 0, NULL, NULL, NULL, NULL, false, NULL, NULL, 0, '[]', NULL, NULL, NULL, NULL, '2026-12-05 00:24:08.180191', NULL);
INSERT INTO public.feeds (id, url, moved_from, title, custom_title, site_url, category_id, etag, last_modified, last_status, last_fetched, last_success, error_count, error_since, last_error, next_check, check_interval, paused, paused_reason, pending_url, pending_count, problems, ttl_minutes, entries_per_day, lease_until, lease_owner, created_at, icon_id) VALUES (3, 'http://tech.example/atom', NULL, 'Feed 2', 'Gadgets', NULL, 2, NULL, NULL, 200, '2024-05-01 12:00:00', '2024-05-01 12:00:00', 0, NULL, NULL, NULL, NULL, false, NULL, NULL, 0, '[]', NULL, NULL, NULL, NULL, '2026-12-05 00:24:08.191336', NULL);
INSERT INTO public.feeds (id, url, moved_from, title, custom_title, site_url, category_id, etag, last_modified, last_status, last_fetched, last_success, error_count, error_since, last_error, next_check, check_interval, paused, paused_reason, pending_url, pending_count, problems, ttl_minutes, entries_per_day, lease_until, lease_owner, created_at, icon_id) VALUES (4, 'http://blog.example/rss', NULL, 'Feed 3', NULL, NULL, 3, NULL, NULL, 200, '2024-05-01 12:00:00', '2024-05-01 12:00:00', 0, NULL, NULL, NULL, NULL, false, NULL, NULL, 0, '[]', NULL, NULL, NULL, NULL, '2026-12-05 00:24:08.194984', NULL);
INSERT INTO public.saved_searches (id, name, query, filters, created_at) VALUES (1, 'Climate', 'climate', '{"category": "World"}', '2026-12-05 00:24:08.310257');
INSERT INTO public.schema_version (version) VALUES (10);
INSERT INTO public.users (id, username, password_hash, fever_verifier, created_at) VALUES (2, 'bob', '$argon2id$v=19$m=65536,t=3,p=4$XQSt/1QN6ataSpMFluXShA$9y2FGfrWa0o6OtOCo6yYbfEs0fLRKqSGLOU81xj7pcg', NULL, '2026-12-05 00:24:08.167531');
INSERT INTO public.users (id, username, password_hash, fever_verifier, created_at) VALUES (1, 'alice', '$argon2id$v=19$m=65536,t=3,p=4$bw8Ss0ufAjKDZAsdTnNn5A$7d+oG+8ugMJMV2h+eoAsd2gUT1zgQeowbAH0wUgZzYA', 'e7bdc548fe37eaea9db32038501ed1b6538de508339f60b77f522b1ac7c686b5', '2026-12-05 00:24:07.891417');
INSERT INTO public.watchlists (id, name, query, entity_ids, categories, feed_ids, channels, mode, enabled, created_at, last_digest_at) VALUES (1, 'Glaciers', 'glacier', '[]', '[]', '[]', '{"ntfy": {"url": "https://ntfy.example/newsdesk"}}', 'instant', true, '2026-12-05 00:24:08.346947', NULL);
SELECT pg_catalog.setval('public.alerts_id_seq', 1, true);
SELECT pg_catalog.setval('public.api_tokens_id_seq', 2, true);
SELECT pg_catalog.setval('public.categories_id_seq', 3, true);
SELECT pg_catalog.setval('public.entities_id_seq', 1, false);
SELECT pg_catalog.setval('public.entries_id_seq', 12, true);
SELECT pg_catalog.setval('public.events_id_seq', 1, false);
SELECT pg_catalog.setval('public.feeds_id_seq', 4, true);
SELECT pg_catalog.setval('public.icons_id_seq', 1, false);
SELECT pg_catalog.setval('public.saved_searches_id_seq', 1, true);
SELECT pg_catalog.setval('public.stories_id_seq', 1, false);
SELECT pg_catalog.setval('public.users_id_seq', 2, true);
SELECT pg_catalog.setval('public.watchlists_id_seq', 1, true);
ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_name_key UNIQUE (name);
ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);
ALTER TABLE ONLY public.categories
    ADD CONSTRAINT categories_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.categories
    ADD CONSTRAINT categories_title_key UNIQUE (title);
ALTER TABLE ONLY public.entities
    ADD CONSTRAINT entities_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.entity_mentions
    ADD CONSTRAINT entity_mentions_pkey PRIMARY KEY (entry_id, entity_id);
ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.entry_intel
    ADD CONSTRAINT entry_intel_pkey PRIMARY KEY (entry_id);
ALTER TABLE ONLY public.entry_links
    ADD CONSTRAINT entry_links_pkey PRIMARY KEY (entry_id, url);
ALTER TABLE ONLY public.entry_signatures
    ADD CONSTRAINT entry_signatures_pkey PRIMARY KEY (entry_id);
ALTER TABLE ONLY public.entry_tags
    ADD CONSTRAINT entry_tags_pkey PRIMARY KEY (entry_id, tag);
ALTER TABLE ONLY public.event_entities
    ADD CONSTRAINT event_entities_pkey PRIMARY KEY (event_id, entity_id);
ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.feeds
    ADD CONSTRAINT feeds_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.feeds
    ADD CONSTRAINT feeds_url_key UNIQUE (url);
ALTER TABLE ONLY public.icons
    ADD CONSTRAINT icons_origin_key UNIQUE (origin);
ALTER TABLE ONLY public.icons
    ADD CONSTRAINT icons_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.link_cache
    ADD CONSTRAINT link_cache_pkey PRIMARY KEY (url);
ALTER TABLE ONLY public.login_throttle
    ADD CONSTRAINT login_throttle_pkey PRIMARY KEY (key);
ALTER TABLE ONLY public.pages
    ADD CONSTRAINT pages_pkey PRIMARY KEY (url);
ALTER TABLE ONLY public.saved_searches
    ADD CONSTRAINT saved_searches_name_key UNIQUE (name);
ALTER TABLE ONLY public.saved_searches
    ADD CONSTRAINT saved_searches_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.stories
    ADD CONSTRAINT stories_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.story_keys
    ADD CONSTRAINT story_keys_pkey PRIMARY KEY (key, entry_id);
ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT uq_alerts_once UNIQUE (watchlist_id, entry_id, channel);
ALTER TABLE ONLY public.entities
    ADD CONSTRAINT uq_entities_kind_key UNIQUE (kind, key);
ALTER TABLE ONLY public.entries
    ADD CONSTRAINT uq_entries_feed_key UNIQUE (feed_id, key);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_username_key UNIQUE (username);
ALTER TABLE ONLY public.watchlists
    ADD CONSTRAINT watchlists_name_key UNIQUE (name);
ALTER TABLE ONLY public.watchlists
    ADD CONSTRAINT watchlists_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.web_secrets
    ADD CONSTRAINT web_secrets_pkey PRIMARY KEY (name);
ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_pkey PRIMARY KEY (token_hash);
CREATE INDEX ix_alerts_status ON public.alerts USING btree (status, watchlist_id);
CREATE INDEX ix_entities_entry_count ON public.entities USING btree (entry_count);
CREATE INDEX ix_entities_key ON public.entities USING btree (key);
CREATE INDEX ix_entity_mentions_entity ON public.entity_mentions USING btree (entity_id, published);
CREATE INDEX ix_entries_changed ON public.entries USING btree (changed_at);
CREATE INDEX ix_entries_feed_hash ON public.entries USING btree (feed_id, content_hash);
CREATE INDEX ix_entries_feed_published ON public.entries USING btree (feed_id, published);
CREATE INDEX ix_entries_feed_state ON public.entries USING btree (feed_id, read, starred, published);
CREATE INDEX ix_entries_published ON public.entries USING btree (published, id);
CREATE INDEX ix_entries_search ON public.entries USING gin (search_vector);
CREATE INDEX ix_entries_story ON public.entries USING btree (story_id);
CREATE INDEX ix_entries_unread ON public.entries USING btree (published, id) WHERE (read IS FALSE);
CREATE INDEX ix_entries_url_canonical ON public.entries USING btree (url_canonical);
CREATE INDEX ix_entry_links_url ON public.entry_links USING btree (url);
CREATE INDEX ix_entry_tags_tag ON public.entry_tags USING btree (tag, entry_id);
CREATE INDEX ix_event_entities_entity ON public.event_entities USING btree (entity_id);
CREATE INDEX ix_events_date ON public.events USING btree (date);
CREATE INDEX ix_events_entry ON public.events USING btree (entry_id);
CREATE INDEX ix_feeds_category ON public.feeds USING btree (category_id);
CREATE INDEX ix_feeds_due ON public.feeds USING btree (paused, next_check);
CREATE INDEX ix_login_throttle_last_at ON public.login_throttle USING btree (last_at);
CREATE INDEX ix_stories_last_published ON public.stories USING btree (last_published);
CREATE INDEX ix_story_keys_entry ON public.story_keys USING btree (entry_id);
CREATE INDEX ix_web_sessions_expires ON public.web_sessions USING btree (expires_at);
ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_watchlist_id_fkey FOREIGN KEY (watchlist_id) REFERENCES public.watchlists(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.entity_mentions
    ADD CONSTRAINT entity_mentions_entity_id_fkey FOREIGN KEY (entity_id) REFERENCES public.entities(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.entity_mentions
    ADD CONSTRAINT entity_mentions_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.entries
    ADD CONSTRAINT entries_feed_id_fkey FOREIGN KEY (feed_id) REFERENCES public.feeds(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.entry_intel
    ADD CONSTRAINT entry_intel_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.entry_links
    ADD CONSTRAINT entry_links_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.entry_signatures
    ADD CONSTRAINT entry_signatures_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.entry_tags
    ADD CONSTRAINT entry_tags_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.event_entities
    ADD CONSTRAINT event_entities_entity_id_fkey FOREIGN KEY (entity_id) REFERENCES public.entities(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.event_entities
    ADD CONSTRAINT event_entities_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.events(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.feeds
    ADD CONSTRAINT feeds_category_id_fkey FOREIGN KEY (category_id) REFERENCES public.categories(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.story_keys
    ADD CONSTRAINT story_keys_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.entries(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;
