CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	applied_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (version)
);

CREATE TABLE settings (
	"key" VARCHAR(100) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);

CREATE TABLE events (
	id INTEGER NOT NULL, 
	at VARCHAR(40) NOT NULL, 
	actor VARCHAR(100) NOT NULL, 
	action VARCHAR(100) NOT NULL, 
	subject TEXT NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE codebook_versions (
	version INTEGER NOT NULL, 
	codebook_id VARCHAR(200) NOT NULL, 
	name TEXT NOT NULL, 
	description TEXT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	source TEXT NOT NULL, 
	loaded_at VARCHAR(40) NOT NULL, 
	loaded_by VARCHAR(100) NOT NULL, 
	changes TEXT NOT NULL, 
	PRIMARY KEY (version)
);

CREATE TABLE codes (
	version INTEGER NOT NULL, 
	code_id VARCHAR(200) NOT NULL, 
	position INTEGER NOT NULL, 
	name TEXT NOT NULL, 
	parent VARCHAR(200), 
	definition TEXT NOT NULL, 
	inclusion TEXT NOT NULL, 
	exclusion TEXT NOT NULL, 
	indicators TEXT NOT NULL, 
	examples TEXT NOT NULL, 
	colour VARCHAR(7), 
	PRIMARY KEY (version, code_id), 
	CONSTRAINT code_definition_not_empty CHECK (length(definition) > 0), 
	FOREIGN KEY(version) REFERENCES codebook_versions (version)
);

CREATE TABLE documents (
	id VARCHAR(200) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	version INTEGER NOT NULL, 
	title TEXT NOT NULL, 
	programme TEXT NOT NULL, 
	source TEXT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	text TEXT NOT NULL, 
	imported_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT document_name_version UNIQUE (name, version), 
	CONSTRAINT document_name_sha256 UNIQUE (name, sha256), 
	CONSTRAINT document_text_not_empty CHECK (length(text) > 0)
);

CREATE TABLE segments (
	id VARCHAR(64) NOT NULL, 
	document_id VARCHAR(200) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	position INTEGER NOT NULL, 
	start INTEGER NOT NULL, 
	"end" INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	label TEXT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT segment_range UNIQUE (document_id, kind, start, "end"), 
	CONSTRAINT segment_range_valid CHECK (0 <= start AND start < "end"), 
	CONSTRAINT segment_kind CHECK (kind IN ('section', 'paragraph', 'sentence', 'window', 'imported')), 
	FOREIGN KEY(document_id) REFERENCES documents (id)
);

CREATE INDEX ix_segments_document_id ON segments (document_id);

CREATE TABLE coders (
	name VARCHAR(100) NOT NULL, 
	kind VARCHAR(10) NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (name), 
	CONSTRAINT coder_kind CHECK (kind IN ('human', 'nlp'))
);

CREATE TABLE annotations (
	id INTEGER NOT NULL, 
	segment_id VARCHAR(64) NOT NULL, 
	code_id VARCHAR(200) NOT NULL, 
	coder VARCHAR(100) NOT NULL, 
	codebook_version INTEGER NOT NULL, 
	span_start INTEGER NOT NULL, 
	span_end INTEGER NOT NULL, 
	whole_segment INTEGER NOT NULL, 
	memo TEXT NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(codebook_version, code_id) REFERENCES codes (version, code_id), 
	CONSTRAINT annotation_once UNIQUE (segment_id, code_id, coder, span_start, span_end), 
	CONSTRAINT annotation_span_valid CHECK (0 <= span_start AND span_start < span_end), 
	FOREIGN KEY(segment_id) REFERENCES segments (id), 
	FOREIGN KEY(coder) REFERENCES coders (name)
);

CREATE TABLE assignments (
	segment_id VARCHAR(64) NOT NULL, 
	coder VARCHAR(100) NOT NULL, 
	assigned_at VARCHAR(40) NOT NULL, 
	completed_at VARCHAR(40), 
	PRIMARY KEY (segment_id, coder), 
	FOREIGN KEY(segment_id) REFERENCES segments (id), 
	FOREIGN KEY(coder) REFERENCES coders (name)
);

CREATE TABLE suggestion_runs (
	id INTEGER NOT NULL, 
	engine VARCHAR(50) NOT NULL, 
	model_version TEXT NOT NULL, 
	codebook_version INTEGER NOT NULL, 
	data_revision INTEGER NOT NULL, 
	params TEXT NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(codebook_version) REFERENCES codebook_versions (version)
);

CREATE TABLE suggestions (
	run_id INTEGER NOT NULL, 
	segment_id VARCHAR(64) NOT NULL, 
	code_id VARCHAR(200) NOT NULL, 
	score FLOAT NOT NULL, 
	evidence TEXT NOT NULL, 
	PRIMARY KEY (run_id, segment_id, code_id), 
	CONSTRAINT suggestion_score_range CHECK (score >= 0 AND score <= 1), 
	FOREIGN KEY(run_id) REFERENCES suggestion_runs (id), 
	FOREIGN KEY(segment_id) REFERENCES segments (id)
);

CREATE TABLE resolutions (
	id INTEGER NOT NULL, 
	segment_id VARCHAR(64) NOT NULL, 
	code_id VARCHAR(200) NOT NULL, 
	codebook_version INTEGER NOT NULL, 
	decision VARCHAR(10) NOT NULL, 
	reviewer VARCHAR(100) NOT NULL, 
	rationale TEXT NOT NULL, 
	at VARCHAR(40) NOT NULL, 
	supersedes INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(codebook_version, code_id) REFERENCES codes (version, code_id), 
	CONSTRAINT resolution_decision CHECK (decision IN ('apply', 'reject', 'withdraw')), 
	CONSTRAINT resolution_rationale_not_empty CHECK (length(trim(rationale)) > 0), 
	FOREIGN KEY(segment_id) REFERENCES segments (id), 
	FOREIGN KEY(supersedes) REFERENCES resolutions (id)
);

CREATE INDEX ix_resolutions_segment_id ON resolutions (segment_id);

CREATE TABLE users (
	name VARCHAR(100) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	password_hash TEXT NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (name), 
	CONSTRAINT user_role CHECK (role IN ('coder', 'reviewer', 'admin'))
);

CREATE TABLE code_notes (
	id INTEGER NOT NULL, 
	code_id VARCHAR(200) NOT NULL, 
	codebook_version INTEGER NOT NULL, 
	segment_id VARCHAR(64), 
	author VARCHAR(100) NOT NULL, 
	note TEXT NOT NULL, 
	at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(codebook_version, code_id) REFERENCES codes (version, code_id), 
	CONSTRAINT code_note_not_empty CHECK (length(trim(note)) > 0), 
	FOREIGN KEY(segment_id) REFERENCES segments (id)
);

CREATE TABLE unit_memos (
	segment_id VARCHAR(64) NOT NULL, 
	coder VARCHAR(100) NOT NULL, 
	memo TEXT NOT NULL, 
	updated_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (segment_id, coder), 
	FOREIGN KEY(segment_id) REFERENCES segments (id), 
	FOREIGN KEY(coder) REFERENCES coders (name)
);

CREATE TABLE annotation_history (
	id INTEGER NOT NULL, 
	annotation_id INTEGER NOT NULL, 
	segment_id VARCHAR(64) NOT NULL, 
	code_id VARCHAR(200) NOT NULL, 
	coder VARCHAR(100) NOT NULL, 
	codebook_version INTEGER NOT NULL, 
	span_start INTEGER NOT NULL, 
	span_end INTEGER NOT NULL, 
	whole_segment INTEGER NOT NULL, 
	memo TEXT NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	change VARCHAR(10) NOT NULL, 
	superseded_at VARCHAR(40) NOT NULL, 
	superseded_by VARCHAR(100) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(codebook_version, code_id) REFERENCES codes (version, code_id), 
	CONSTRAINT annotation_history_change CHECK (change IN ('removed', 'memo')), 
	FOREIGN KEY(segment_id) REFERENCES segments (id), 
	FOREIGN KEY(coder) REFERENCES coders (name)
);

CREATE INDEX ix_annotation_history_segment_id ON annotation_history (segment_id);

CREATE TABLE unit_memo_history (
	id INTEGER NOT NULL, 
	segment_id VARCHAR(64) NOT NULL, 
	coder VARCHAR(100) NOT NULL, 
	memo TEXT NOT NULL, 
	updated_at VARCHAR(40) NOT NULL, 
	superseded_at VARCHAR(40) NOT NULL, 
	superseded_by VARCHAR(100) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(segment_id) REFERENCES segments (id), 
	FOREIGN KEY(coder) REFERENCES coders (name)
);

CREATE INDEX ix_unit_memo_history_segment_id ON unit_memo_history (segment_id);

CREATE TABLE attributes (
	name VARCHAR(100) NOT NULL, 
	scope VARCHAR(10) NOT NULL, 
	type VARCHAR(10) NOT NULL, 
	declared_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (name), 
	CONSTRAINT attribute_scope CHECK (scope IN ('unit', 'document')), 
	CONSTRAINT attribute_type CHECK (type IN ('text', 'number', 'date'))
);

CREATE TABLE unit_attributes (
	segment_id VARCHAR(64) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (segment_id, name), 
	FOREIGN KEY(segment_id) REFERENCES segments (id), 
	FOREIGN KEY(name) REFERENCES attributes (name)
);

CREATE INDEX ix_unit_attributes_name_value ON unit_attributes (name, value);

CREATE TABLE document_attributes (
	document_id VARCHAR(200) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (document_id, name), 
	FOREIGN KEY(document_id) REFERENCES documents (id), 
	FOREIGN KEY(name) REFERENCES attributes (name)
);

CREATE INDEX ix_document_attributes_name_value ON document_attributes (name, value);

CREATE TABLE llm_answers (
	model VARCHAR(300) NOT NULL, 
	prompt_hash VARCHAR(64) NOT NULL, 
	text_hash VARCHAR(64) NOT NULL, 
	content TEXT NOT NULL, 
	endpoint TEXT NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (model, prompt_hash, text_hash)
);

CREATE TABLE disputes (
	segment_id VARCHAR(64) NOT NULL, 
	code_id VARCHAR(200) NOT NULL, 
	applied INTEGER NOT NULL, 
	submitted INTEGER NOT NULL, 
	applied_by TEXT NOT NULL, 
	submitters TEXT NOT NULL, 
	document_id VARCHAR(200) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	position INTEGER NOT NULL, 
	PRIMARY KEY (segment_id, code_id)
);

CREATE INDEX ix_disputes_place ON disputes (document_id, kind, position, segment_id);

CREATE TABLE derived (
	name VARCHAR(50) NOT NULL, 
	mark TEXT NOT NULL, 
	PRIMARY KEY (name)
);

CREATE INDEX ix_assignments_coder ON assignments (coder);

CREATE INDEX ix_annotations_coder_segment ON annotations (coder, segment_id);

CREATE INDEX IF NOT EXISTS ix_events_action_at ON events (action, at);

CREATE INDEX IF NOT EXISTS ix_assignments_submitted ON assignments (segment_id, coder, completed_at);

CREATE INDEX IF NOT EXISTS ix_segments_document_unit ON segments (document_id, id);
