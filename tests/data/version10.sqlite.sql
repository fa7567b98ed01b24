BEGIN TRANSACTION;
CREATE TABLE alerts (
	id INTEGER NOT NULL, 
	watchlist_id INTEGER NOT NULL, 
	entry_id INTEGER NOT NULL, 
	channel VARCHAR(16) NOT NULL, 
	status VARCHAR(12) NOT NULL, 
	attempts INTEGER NOT NULL, 
	error TEXT, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_alerts_once UNIQUE (watchlist_id, entry_id, channel), 
	FOREIGN KEY(watchlist_id) REFERENCES watchlists (id) ON DELETE CASCADE, 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE
);
INSERT INTO "alerts" VALUES(1,1,3,'ntfy','pending',0,NULL,'2024-05-01 12:00:00.000000',NULL);
CREATE TABLE api_tokens (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (name), 
	UNIQUE (token_hash)
);
INSERT INTO "api_tokens" VALUES(1,'phone','5043884b176eb7759723c6a62d6b82f61e375d9e427506946dcc1bbff1ce4920','nd_V9dga','2026-12-05 00:25:41.925101',NULL);
INSERT INTO "api_tokens" VALUES(2,'laptop','e077986734c017b7212ce87539894960e465aabda3153cf3511e2bb47bfe68f4','nd_hIcXl','2026-12-05 00:25:41.925776',NULL);
CREATE TABLE categories (
	id INTEGER NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (title)
);
INSERT INTO "categories" VALUES(1,'World');
INSERT INTO "categories" VALUES(2,'Tech');
INSERT INTO "categories" VALUES(3,'General');
CREATE TABLE entities (
	id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	"key" VARCHAR(200) NOT NULL, 
	name TEXT NOT NULL, 
	aliases JSON NOT NULL, 
	mention_count INTEGER NOT NULL, 
	entry_count INTEGER NOT NULL, 
	first_seen DATETIME, 
	last_seen DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_entities_kind_key UNIQUE (kind, "key")
);
CREATE TABLE entity_mentions (
	entry_id INTEGER NOT NULL, 
	entity_id INTEGER NOT NULL, 
	count INTEGER NOT NULL, 
	first_offset INTEGER NOT NULL, 
	published DATETIME NOT NULL, 
	PRIMARY KEY (entry_id, entity_id), 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE, 
	FOREIGN KEY(entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE TABLE entries (
	id INTEGER NOT NULL, 
	feed_id INTEGER NOT NULL, 
	"key" TEXT NOT NULL, 
	url TEXT, 
	url_canonical TEXT, 
	title TEXT, 
	author TEXT, 
	kind VARCHAR(16) NOT NULL, 
	published DATETIME NOT NULL, 
	updated DATETIME, 
	first_seen DATETIME NOT NULL, 
	content_html TEXT NOT NULL, 
	content_text TEXT NOT NULL, 
	summary_html TEXT, 
	content_hash VARCHAR(64) NOT NULL, 
	tags JSON NOT NULL, 
	links JSON NOT NULL, 
	enclosures JSON NOT NULL, 
	reposted_by TEXT, 
	reply_to TEXT, 
	language VARCHAR(35), 
	wants_fulltext BOOLEAN NOT NULL, 
	fulltext_status VARCHAR(16), 
	fulltext_error TEXT, 
	page JSON, 
	read BOOLEAN NOT NULL, 
	starred BOOLEAN NOT NULL, 
	read_at DATETIME, 
	starred_at DATETIME, 
	story_id INTEGER, 
	changed_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_entries_feed_key UNIQUE (feed_id, "key"), 
	FOREIGN KEY(feed_id) REFERENCES feeds (id) ON DELETE CASCADE
);
INSERT INTO "entries" VALUES(1,1,'http://site0.example/0','http://site0.example/0','http://site0.example/0','Climate report 0-0','Reporter','article','2024-05-01 12:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 0-0 about the climate, and a climate too.</p>','Story 0-0 about the climate, and a climate too.',NULL,'0000000000000000000000000000000000000000000000000000000000000000','["climate", "news"]','["http://site1.example/0"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,1,0,'2026-12-05 00:25:41.905372',NULL,NULL,'2026-12-05 00:25:41.905372');
INSERT INTO "entries" VALUES(2,1,'http://site0.example/1','http://site0.example/1','http://site0.example/1','Election report 0-1','Reporter','article','2024-05-01 11:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 0-1 about the election, and a election too.</p>','Story 0-1 about the election, and a election too.',NULL,'0001000000000000000000000000000000000000000000000000000000000000','["election", "news"]','["http://site1.example/1"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,1,1,'2026-12-05 00:25:41.905372','2026-12-05 00:25:41.910382',NULL,'2026-12-05 00:25:41.910382');
INSERT INTO "entries" VALUES(3,1,'http://site0.example/2','http://site0.example/2','http://site0.example/2','Harbour report 0-2','Reporter','article','2024-05-01 10:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 0-2 about the harbour, and a harbour too.</p>','Story 0-2 about the harbour, and a harbour too.',NULL,'0002000000000000000000000000000000000000000000000000000000000000','["harbour", "news"]','["http://site1.example/2"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,1,0,'2026-12-05 00:25:41.905372',NULL,NULL,'2026-12-05 00:25:41.905372');
INSERT INTO "entries" VALUES(4,2,'http://site1.example/0','http://site1.example/0','http://site1.example/0','Election report 1-0','Reporter','article','2024-04-30 12:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 1-0 about the election, and a climate too.</p>','Story 1-0 about the election, and a climate too.',NULL,'0100000000000000000000000000000000000000000000000000000000000000','["election", "news"]','["http://site2.example/0"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,1,0,'2026-12-05 00:25:41.905372',NULL,NULL,'2026-12-05 00:25:41.905372');
INSERT INTO "entries" VALUES(5,2,'http://site1.example/1','http://site1.example/1','http://site1.example/1','Harbour report 1-1','Reporter','article','2024-04-30 11:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 1-1 about the harbour, and a election too.</p>','Story 1-1 about the harbour, and a election too.',NULL,'0101000000000000000000000000000000000000000000000000000000000000','["harbour", "news"]','["http://site2.example/1"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,1,0,'2026-12-05 00:25:41.905372',NULL,NULL,'2026-12-05 00:25:41.905372');
INSERT INTO "entries" VALUES(6,2,'http://site1.example/2','http://site1.example/2','http://site1.example/2','Satellite report 1-2','Reporter','article','2024-04-30 10:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 1-2 about the satellite, and a harbour too.</p>','Story 1-2 about the satellite, and a harbour too.',NULL,'0102000000000000000000000000000000000000000000000000000000000000','["satellite", "news"]','["http://site2.example/2"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,0,0,NULL,NULL,NULL,'2024-05-01 12:00:00.000000');
INSERT INTO "entries" VALUES(7,3,'http://site2.example/0','http://site2.example/0','http://site2.example/0','Harbour report 2-0','Reporter','article','2024-04-29 12:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 2-0 about the harbour, and a climate too.</p>','Story 2-0 about the harbour, and a climate too.',NULL,'0200000000000000000000000000000000000000000000000000000000000000','["harbour", "news"]','["http://site3.example/0"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,0,1,NULL,'2026-12-05 00:25:41.910382',NULL,'2026-12-05 00:25:41.910382');
INSERT INTO "entries" VALUES(8,3,'http://site2.example/1','http://site2.example/1','http://site2.example/1','Satellite report 2-1','Reporter','article','2024-04-29 11:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 2-1 about the satellite, and a election too.</p>','Story 2-1 about the satellite, and a election too.',NULL,'0201000000000000000000000000000000000000000000000000000000000000','["satellite", "news"]','["http://site3.example/1"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,0,0,NULL,NULL,NULL,'2024-05-01 12:00:00.000000');
INSERT INTO "entries" VALUES(9,3,'http://site2.example/2','http://site2.example/2','http://site2.example/2','Orchard report 2-2','Reporter','article','2024-04-29 10:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 2-2 about the orchard, and a harbour too.</p>','Story 2-2 about the orchard, and a harbour too.',NULL,'0202000000000000000000000000000000000000000000000000000000000000','["orchard", "news"]','["http://site3.example/2"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,0,0,NULL,NULL,NULL,'2024-05-01 12:00:00.000000');
INSERT INTO "entries" VALUES(10,4,'http://site3.example/0','http://site3.example/0','http://site3.example/0','Satellite report 3-0','Reporter','post','2024-04-28 12:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 3-0 about the satellite, and a climate too.</p>','Story 3-0 about the satellite, and a climate too.',NULL,'0300000000000000000000000000000000000000000000000000000000000000','["satellite", "news"]','["http://site0.example/0"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,0,1,NULL,'2026-12-05 00:25:41.910382',NULL,'2026-12-05 00:25:41.910382');
INSERT INTO "entries" VALUES(11,4,'http://site3.example/1','http://site3.example/1','http://site3.example/1','Orchard report 3-1','Reporter','post','2024-04-28 11:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 3-1 about the orchard, and a election too.</p>','Story 3-1 about the orchard, and a election too.',NULL,'0301000000000000000000000000000000000000000000000000000000000000','["orchard", "news"]','["http://site0.example/1"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,0,0,NULL,NULL,NULL,'2024-05-01 12:00:00.000000');
INSERT INTO "entries" VALUES(12,4,'http://site3.example/2','http://site3.example/2','http://site3.example/2','Glacier report 3-2','Reporter','post','2024-04-28 10:00:00.000000',NULL,'2024-05-01 12:00:00.000000','<p>Story 3-2 about the glacier, and a harbour too.</p>','Story 3-2 about the glacier, and a harbour too.',NULL,'0302000000000000000000000000000000000000000000000000000000000000','["glacier", "news"]','["http://site0.example/2"]','[]',NULL,NULL,NULL,0,NULL,NULL,NULL,0,0,NULL,NULL,NULL,'2024-05-01 12:00:00.000000');
PRAGMA writable_schema=ON;
INSERT INTO sqlite_master(type,name,tbl_name,rootpage,sql)VALUES('table','entries_fts','entries_fts',0,'CREATE VIRTUAL TABLE entries_fts USING fts5(title, author, content_text, content=''entries'', content_rowid=''id'', tokenize=''unicode61 remove_diacritics 2'', detail=none)');
CREATE TABLE 'entries_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
INSERT INTO "entries_fts_config" VALUES('version',4);
CREATE TABLE 'entries_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
INSERT INTO "entries_fts_data" VALUES(1,X'0C300C78');
INSERT INTO "entries_fts_data" VALUES(10,X'000000000104040004010101020101030101040101');
INSERT INTO "entries_fts_data" VALUES(137438953473,X'0000007202303001010101013102010132030101610101010204626F757401010102026E640101010107636C696D617465010108656C656374696F6E020107686172626F75720301067265706F727401010107026572010101010573746F7279010101010374686501010102026F6F010101040604040609070A0B0A0B070A08');
INSERT INTO "entries_fts_data" VALUES(274877906945,X'0000007F02303004010131040101010132060101610401010204626F757404010102026E640401010107636C696D617465040108656C656374696F6E04010107686172626F7572050101067265706F7274040101070265720401010109736174656C6C697465060204746F7279040101010374686504010102026F6F040101040406040609070A0C0B0B070C0908');
INSERT INTO "entries_fts_data" VALUES(412316860417,X'0000008802303007010131080101320701010101610701010204626F757407010102026E640701010107636C696D617465070108656C656374696F6E080107686172626F7572070201076F7263686172640901067265706F7274070101070265720701010109736174656C6C697465080204746F7279070101010374686507010102026F6F070101040404060609070A0B0B0A0B070C0908');
INSERT INTO "entries_fts_data" VALUES(549755813889,X'000000950230300A0101310B0101320C0101330A01010101610A01010204626F75740A010102026E640A01010107636C696D6174650A0108656C656374696F6E0B0107676C61636965720C0107686172626F75720C01076F7263686172640B01067265706F72740A0101070265720A01010109736174656C6C6974650A0204746F72790A010101037468650A010102026F6F0A010104040404060609070A0B0A0A0A0B070C0908');
CREATE TABLE 'entries_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
INSERT INTO "entries_fts_docsize" VALUES(1,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(2,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(3,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(4,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(5,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(6,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(7,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(8,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(9,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(10,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(11,X'04010A');
INSERT INTO "entries_fts_docsize" VALUES(12,X'04010A');
CREATE TABLE 'entries_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
INSERT INTO "entries_fts_idx" VALUES(1,X'',2);
INSERT INTO "entries_fts_idx" VALUES(2,X'',2);
INSERT INTO "entries_fts_idx" VALUES(3,X'',2);
INSERT INTO "entries_fts_idx" VALUES(4,X'',2);
CREATE TABLE entry_intel (
	entry_id INTEGER NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	text_length INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	entities_model VARCHAR(100), 
	done_at DATETIME NOT NULL, 
	PRIMARY KEY (entry_id), 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE
);
CREATE TABLE entry_links (
	entry_id INTEGER NOT NULL, 
	url TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (entry_id, url), 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE
);
INSERT INTO "entry_links" VALUES(1,'http://site1.example/0',0);
INSERT INTO "entry_links" VALUES(2,'http://site1.example/1',0);
INSERT INTO "entry_links" VALUES(3,'http://site1.example/2',0);
INSERT INTO "entry_links" VALUES(4,'http://site2.example/0',0);
INSERT INTO "entry_links" VALUES(5,'http://site2.example/1',0);
INSERT INTO "entry_links" VALUES(6,'http://site2.example/2',0);
INSERT INTO "entry_links" VALUES(7,'http://site3.example/0',0);
INSERT INTO "entry_links" VALUES(8,'http://site3.example/1',0);
INSERT INTO "entry_links" VALUES(9,'http://site3.example/2',0);
INSERT INTO "entry_links" VALUES(10,'http://site0.example/0',0);
INSERT INTO "entry_links" VALUES(11,'http://site0.example/1',0);
INSERT INTO "entry_links" VALUES(12,'http://site0.example/2',0);
CREATE TABLE entry_signatures (
	entry_id INTEGER NOT NULL, 
	minhash BLOB, 
	title_terms TEXT, 
	PRIMARY KEY (entry_id), 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE
);
CREATE TABLE entry_tags (
	entry_id INTEGER NOT NULL, 
	tag VARCHAR(100) NOT NULL, 
	PRIMARY KEY (entry_id, tag), 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE
);
INSERT INTO "entry_tags" VALUES(1,'climate');
INSERT INTO "entry_tags" VALUES(1,'news');
INSERT INTO "entry_tags" VALUES(2,'election');
INSERT INTO "entry_tags" VALUES(2,'news');
INSERT INTO "entry_tags" VALUES(3,'harbour');
INSERT INTO "entry_tags" VALUES(3,'news');
INSERT INTO "entry_tags" VALUES(4,'election');
INSERT INTO "entry_tags" VALUES(4,'news');
INSERT INTO "entry_tags" VALUES(5,'harbour');
INSERT INTO "entry_tags" VALUES(5,'news');
INSERT INTO "entry_tags" VALUES(6,'satellite');
INSERT INTO "entry_tags" VALUES(6,'news');
INSERT INTO "entry_tags" VALUES(7,'harbour');
INSERT INTO "entry_tags" VALUES(7,'news');
INSERT INTO "entry_tags" VALUES(8,'satellite');
INSERT INTO "entry_tags" VALUES(8,'news');
INSERT INTO "entry_tags" VALUES(9,'orchard');
INSERT INTO "entry_tags" VALUES(9,'news');
INSERT INTO "entry_tags" VALUES(10,'satellite');
INSERT INTO "entry_tags" VALUES(10,'news');
INSERT INTO "entry_tags" VALUES(11,'orchard');
INSERT INTO "entry_tags" VALUES(11,'news');
INSERT INTO "entry_tags" VALUES(12,'glacier');
INSERT INTO "entry_tags" VALUES(12,'news');
INSERT INTO "entry_tags" VALUES(1,'Label:Important');
INSERT INTO "entry_tags" VALUES(5,'Label:Important');
INSERT INTO "entry_tags" VALUES(5,'Label:Later');
INSERT INTO "entry_tags" VALUES(11,'Label:Later');
CREATE TABLE event_entities (
	event_id INTEGER NOT NULL, 
	entity_id INTEGER NOT NULL, 
	PRIMARY KEY (event_id, entity_id), 
	FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE, 
	FOREIGN KEY(entity_id) REFERENCES entities (id) ON DELETE CASCADE
);
CREATE TABLE events (
	id INTEGER NOT NULL, 
	entry_id INTEGER NOT NULL, 
	date VARCHAR(10) NOT NULL, 
	precision VARCHAR(8) NOT NULL, 
	sentence TEXT NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE
);
CREATE TABLE feeds (
	id INTEGER NOT NULL, 
	url TEXT NOT NULL, 
	moved_from TEXT, 
	title TEXT, 
	custom_title TEXT, 
	site_url TEXT, 
	category_id INTEGER, 
	etag TEXT, 
	last_modified TEXT, 
	last_status INTEGER, 
	last_fetched DATETIME, 
	last_success DATETIME, 
	error_count INTEGER NOT NULL, 
	error_since DATETIME, 
	last_error TEXT, 
	next_check DATETIME, 
	check_interval INTEGER, 
	paused BOOLEAN NOT NULL, 
	paused_reason TEXT, 
	pending_url TEXT, 
	pending_count INTEGER NOT NULL, 
	problems JSON, 
	ttl_minutes INTEGER, 
	entries_per_day FLOAT, 
	lease_until DATETIME, 
	lease_owner VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	icon_id INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (url), 
	FOREIGN KEY(category_id) REFERENCES categories (id) ON DELETE SET NULL
);
INSERT INTO "feeds" VALUES(1,'http://news.example/world.xml',NULL,'Feed 0','World desk',NULL,1,NULL,NULL,200,'2024-05-01 12:00:00.000000','2024-05-01 12:00:00.000000',0,NULL,NULL,NULL,NULL,0,NULL,NULL,0,'[]',NULL,NULL,NULL,NULL,'2026-12-05 00:25:41.822432',NULL);
INSERT INTO "feeds" VALUES(2,'http://wire.example/feed',NULL,'Feed 1',NULL,NULL,1,NULL,NULL,200,'2024-05-01 12:00:00.000000','2024-05-01 12:00:00.000000',0,NULL,NULL,NULL,NULL,0,NULL,NULL,0,'[]',NULL,NULL,NULL,NULL,'2026-12-05 00:25:41.830700',NULL);
INSERT INTO "feeds" VALUES(3,'http://tech.example/atom',NULL,'Feed 2','Gadgets',NULL,2,NULL,NULL,200,'2024-05-01 12:00:00.000000','2024-05-01 12:00:00.000000',0,NULL,NULL,NULL,NULL,0,NULL,NULL,0,'[]',NULL,NULL,NULL,NULL,'2026-12-05 00:25:41.831544',NULL);
INSERT INTO "feeds" VALUES(4,'http://blog.example/rss',NULL,'Feed 3',NULL,NULL,3,NULL,NULL,200,'2024-05-01 12:00:00.000000','2024-05-01 12:00:00.000000',0,NULL,NULL,NULL,NULL,0,NULL,NULL,0,'[]',NULL,NULL,NULL,NULL,'2026-12-05 00:25:41.832282',NULL);
CREATE TABLE icons (
	id INTEGER NOT NULL, 
	origin TEXT NOT NULL, 
	url TEXT, 
	mime_type VARCHAR(40), 
	data BLOB, 
	hash VARCHAR(64), 
	checked_at DATETIME NOT NULL, 
	fetched_at DATETIME, 
	error TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (origin)
);
CREATE TABLE link_cache (
	url TEXT NOT NULL, 
	final_url TEXT NOT NULL, 
	resolved_at DATETIME NOT NULL, 
	PRIMARY KEY (url)
);
CREATE TABLE login_throttle (
	"key" VARCHAR(200) NOT NULL, 
	failures INTEGER NOT NULL, 
	last_at DATETIME NOT NULL, 
	blocked_until DATETIME, 
	PRIMARY KEY ("key")
);
CREATE TABLE pages (
	url TEXT NOT NULL, 
	final_url TEXT, 
	title TEXT, 
	author TEXT, 
	published VARCHAR(40), 
	site_name TEXT, 
	text TEXT, 
	html TEXT, 
	error TEXT, 
	fetched_at DATETIME NOT NULL, 
	PRIMARY KEY (url)
);
CREATE TABLE saved_searches (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	"query" TEXT NOT NULL, 
	filters JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "saved_searches" VALUES(1,'Climate','climate','{"category": "World"}','2026-12-05 00:25:41.921083');
CREATE TABLE schema_version (
	version INTEGER NOT NULL
);
INSERT INTO "schema_version" VALUES(10);
CREATE TABLE stories (
	id INTEGER NOT NULL, 
	title TEXT, 
	lead_entry_id INTEGER, 
	size INTEGER NOT NULL, 
	sources INTEGER NOT NULL, 
	first_published DATETIME NOT NULL, 
	last_published DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE story_keys (
	"key" VARCHAR(40) NOT NULL, 
	entry_id INTEGER NOT NULL, 
	published DATETIME NOT NULL, 
	PRIMARY KEY ("key", entry_id), 
	FOREIGN KEY(entry_id) REFERENCES entries (id) ON DELETE CASCADE
);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	username VARCHAR(150) NOT NULL, 
	password_hash TEXT NOT NULL, 
	fever_verifier VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
INSERT INTO "users" VALUES(1,'alice','$argon2id$v=19$m=65536,t=3,p=4$MpOuIhLZGvmM8yvJwYGCng$sfHWmhwyNQf0t3AaZAjEVGKofbBksgR2LHzL17x5UBQ','e7bdc548fe37eaea9db32038501ed1b6538de508339f60b77f522b1ac7c686b5','2026-12-05 00:25:41.371624');
INSERT INTO "users" VALUES(2,'bob','$argon2id$v=19$m=65536,t=3,p=4$FYSpSzdt/1lJV+MGGIRyuA$vQJxhcaPhuvie5fXOZeZAcIL/oeznupn+RqzHYYb+M8',NULL,'2026-12-05 00:25:41.817941');
CREATE TABLE watchlists (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	"query" TEXT NOT NULL, 
	entity_ids JSON NOT NULL, 
	categories JSON NOT NULL, 
	feed_ids JSON NOT NULL, 
	channels JSON NOT NULL, 
	mode VARCHAR(8) NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_digest_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "watchlists" VALUES(1,'Glaciers','glacier','[]','[]','[]','{"ntfy": {"url": "https://ntfy.example/newsdesk"}}','instant',1,'2026-12-05 00:25:41.960036',NULL);
CREATE TABLE web_secrets (
	name VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE web_sessions (
	token_hash VARCHAR(64) NOT NULL, 
	user_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_entries_published ON entries (published, id);
CREATE INDEX ix_entries_feed_published ON entries (feed_id, published);
CREATE INDEX ix_entries_unread ON entries (published, id) WHERE read IS 0;
CREATE INDEX ix_entries_url_canonical ON entries (url_canonical);
CREATE INDEX ix_entries_feed_hash ON entries (feed_id, content_hash);
CREATE INDEX ix_entries_story ON entries (story_id);
CREATE INDEX ix_entries_changed ON entries (changed_at);
CREATE INDEX ix_entry_links_url ON entry_links (url);
CREATE INDEX ix_entry_tags_tag ON entry_tags (tag, entry_id);
CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN INSERT INTO entries_fts(rowid, title, author, content_text) VALUES (new.id, new.title, new.author, new.content_text); END;
CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN INSERT INTO entries_fts(entries_fts, rowid, title, author, content_text) VALUES ('delete', old.id, old.title, old.author, old.content_text); END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, author, content_text ON entries BEGIN INSERT INTO entries_fts(entries_fts, rowid, title, author, content_text) VALUES ('delete', old.id, old.title, old.author, old.content_text); INSERT INTO entries_fts(rowid, title, author, content_text) VALUES (new.id, new.title, new.author, new.content_text); END;
CREATE INDEX ix_web_sessions_expires ON web_sessions (expires_at);
CREATE INDEX ix_feeds_category ON feeds (category_id);
CREATE INDEX ix_entries_feed_state ON entries (feed_id, read, starred, published);
CREATE INDEX ix_feeds_due ON feeds (paused, next_check);
CREATE INDEX ix_stories_last_published ON stories (last_published);
CREATE INDEX ix_story_keys_entry ON story_keys (entry_id);
CREATE INDEX ix_entities_entry_count ON entities (entry_count);
CREATE INDEX ix_entities_key ON entities ("key");
CREATE INDEX ix_events_entry ON events (entry_id);
CREATE INDEX ix_events_date ON events (date);
CREATE INDEX ix_entity_mentions_entity ON entity_mentions (entity_id, published);
CREATE INDEX ix_event_entities_entity ON event_entities (entity_id);
CREATE INDEX ix_alerts_status ON alerts (status, watchlist_id);
CREATE INDEX ix_login_throttle_last_at ON login_throttle (last_at);
PRAGMA writable_schema=OFF;
COMMIT;
