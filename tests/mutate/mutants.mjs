// mutants.mjs -- the table `make mutate` runs: small, realistic bugs, each
// a (file, exact original text, replacement, why) entry, with the suites
// that ought to catch it, fastest first. Every check in lib/ and function/
// has at least one. An entry whose original text no longer occurs exactly
// once in its file is stale and fails the run: keep the table in step with
// the code.
//
// Suites: unit (cmocka), wagi (the WAGI module under Node's WASI),
// component (the handler component and the reference host), http (the
// wasi:http components under jco serve), diff (the differential tests),
// ct (make ct-check), forward (tests/http/forward.test.mjs alone), host
// (the reference host's faults, tests/host/faults.test.mjs).
export const mutants = [
  // ---------------------------------------------------------------- reference host: log lines
  {
    file: 'deploy/host/server.mjs', why: 'host log: bidirectional overrides reach the log raw', suites: ['host'],
    from: 'const SPOOFING = /[\\u0080-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]/g;',
    to: 'const SPOOFING = /[\\u0080-\\u009f\\u2028\\u2029]/g;',
  },
  // ---------------------------------------------------------------- catch-up: the GET /connections reader
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: an oversized element is decoded from its cut-off bytes', suites: ['unit'],
    from: '\tif (c->oversized) {\n\t\tc->skipped++;',
    to: '\tif (0) {\n\t\tc->skipped++;',
  },
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: an escaped quote ends a string', suites: ['unit'],
    from: '\t\t\t} else if (ch == \'\\\\\') {\n\t\t\t\tc->escaped = 1;',
    to: '\t\t\t} else if (0) {\n\t\t\t\tc->escaped = 1;',
  },
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: only braces count for nesting', suites: ['unit'],
    from: "} else if (ch == '}' || ch == ']') {",
    to: "} else if (ch == '}') {",
  },
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: an answer cut short reads as a whole list', suites: ['unit'],
    from: '\t\treturn refuse(c, "the answer ends before the list\'s closing bracket");',
    to: '\t\treturn PW_CATCHUP_DONE;',
  },
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: text after the closing bracket is ignored', suites: ['unit'],
    from: '\t\t\tev = refuse(c, "the answer goes on after the list\'s closing bracket");',
    to: '\t\t\ti++;',
  },
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: an element that is not JSON is skipped, not refused', suites: ['unit'],
    from: 'if (j == PW_JSON_SYNTAX || j == PW_JSON_UTF8) {',
    to: 'if (0) {',
  },
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: a skip is not counted', suites: ['unit'],
    from: '\tc->skipped++;\n\treturn PW_CATCHUP_SKIPPED;\n}',
    to: '\treturn PW_CATCHUP_SKIPPED;\n}',
  },
  {
    file: 'lib/pw_catchup.c', why: 'catch-up: a comma may follow the opening bracket', suites: ['unit'],
    from: "if (ch == ']' && c->state == AT_FIRST) {",
    to: "if (ch == ',' && c->state == AT_FIRST) { c->state = AT_NEXT; i++; break; }\n\t\t\tif (ch == ']' && c->state == AT_FIRST) {",
  },
  // ---------------------------------------------------------------- MAC compare and keyring
  {
    file: 'lib/pw_verify.c', why: 'compare exits early (a timing leak, same answers)', suites: ['ct'],
    from: '\t\td |= (uint32_t)(x[i] ^ y[i]);\n\t}',
    to: '\t\td |= (uint32_t)(x[i] ^ y[i]);\n\t\tif (d != 0) {\n\t\t\treturn 0;\n\t\t}\n\t}',
  },
  {
    file: 'lib/pw_verify.c', why: 'only the first half of the MAC is compared', suites: ['unit', 'wagi'],
    from: 'match |= (uint32_t)pw_ct_equal(got, want, sizeof got);',
    to: 'match |= (uint32_t)pw_ct_equal(got, want, sizeof got / 2);',
  },
  {
    file: 'lib/pw_verify.c', why: 'only the first secret of a rotation list is tried', suites: ['unit', 'wagi'],
    from: 'for (i = 0; i < kr->count; i++) {\n\t\tbr_hmac_init',
    to: 'for (i = 0; i < 1 && i < kr->count; i++) {\n\t\tbr_hmac_init',
  },
  {
    file: 'lib/pw_verify.c', why: 'the keyring takes one secret too many', suites: ['unit', 'wagi'],
    from: 'if (kr->count >= PW_MAX_SECRETS) {',
    to: 'if (kr->count > PW_MAX_SECRETS) {',
  },
  {
    file: 'lib/pw_verify.c', why: 'an empty list entry becomes an empty key', suites: ['unit', 'wagi'],
    from: '\tif (len == 0) {\n\t\treturn PW_KEY_EMPTY;\n\t}',
    to: '\tif (len == 0 && 0) {\n\t\treturn PW_KEY_EMPTY;\n\t}',
  },
  {
    file: 'lib/pw_internal.h', why: 'hex decoding takes g as a digit', suites: ['unit'],
    from: 'uint32_t isl = ct_in(let, 0, 6);',
    to: 'uint32_t isl = ct_in(let, 0, 7);',
  },
  {
    file: 'lib/pw_verify.c', why: 'hex decoding calls a full output invalid input', suites: ['unit'],
    from: ': n > cap ? PW_DECODE_CAP',
    to: ': n > cap ? PW_DECODE_INVALID',
  },
  // ---------------------------------------------------------------- request checks
  {
    file: 'lib/pw_handle.c', why: 'the signature is MACed without its quotes', suites: ['unit', 'wagi'],
    from: 'size_t q = e->data.type == JSMN_STRING;',
    to: 'size_t q = 0;',
  },
  {
    file: 'lib/pw_handle.c', why: 'a repeated top-level key is allowed', suites: ['unit', 'wagi'],
    from: 'if (!key_is_new(e->body, &ms, i)) {',
    to: 'if (0 && !key_is_new(e->body, &ms, i)) {',
  },
  {
    file: 'lib/pw_handle.c', why: 'a top-level key spelled with escapes is allowed', suites: ['unit', 'wagi'],
    from: "if (memchr(ks, '\\\\', kl) != NULL) {",
    to: "if (0 && memchr(ks, '\\\\', kl) != NULL) {",
  },
  {
    file: 'lib/pw_json.c', why: 'nested keys count as envelope members', suites: ['unit', 'wagi'],
    from: 'if (out != NULL && depth == 1) {',
    to: 'if (out != NULL) {',
  },
  {
    file: 'lib/pw_json.c', why: 'a nested value is taken for a member\'s value', suites: ['unit', 'wagi'],
    from: 'if (cur != NULL && depth == 1) {         /* a member\'s value, whole */',
    to: 'if (cur != NULL) {         /* a member\'s value, whole */',
  },
  {
    file: 'lib/pw_handle.c', why: 'more top-level members than the limit are read', suites: ['unit', 'wagi'],
    from: 'if (ms.count > PW_MAX_MEMBERS) {',
    to: 'if (ms.count > PW_MAX_MEMBERS + 1) {',
  },
  {
    file: 'lib/pw_handle.c', why: 'nested keys count as Connection Object fields', suites: ['unit', 'wagi'],
    from: '\t\tif (t[i].parent != 0) {\n\t\t\tcontinue;\n\t\t}\n\t\tf = field_named',
    to: '\t\tif (0) {\n\t\t\tcontinue;\n\t\t}\n\t\tf = field_named',
  },
  {
    file: 'lib/pw_handle.c', why: 'the event type is matched by prefix', suites: ['unit', 'wagi'],
    from: 'if (!span_is(res->type.ptr, res->type.len, "connection.created")) {',
    to: 'if (res->type.len < 18 || memcmp(res->type.ptr, "connection.created", 18) != 0) {',
  },
  {
    file: 'lib/pw_handle.c', why: 'an empty required field is accepted', suites: ['unit', 'wagi'],
    from: '(s->ptr == NULL || s->len == 0)',
    to: '(s->ptr == NULL)',
  },
  {
    file: 'lib/pw_handle.c', why: 'a repeated Connection Object field is allowed', suites: ['unit', 'wagi'],
    from: 'if (seen & (1u << f)) {',
    to: 'if (0 && (seen & (1u << f))) {',
  },
  {
    file: 'lib/pw_handle.c', why: 'any primitive counts as null', suites: ['unit', 'wagi'],
    from: "if (v->type == JSMN_PRIMITIVE && js[v->start] == 'n'",
    to: 'if (v->type == JSMN_PRIMITIVE',
  },
  {
    file: 'lib/pw_handle.c', why: 'the body limit is off by one', suites: ['unit', 'wagi'],
    from: 'if (req->body.len > ctx->body_max) {',
    to: 'if (req->body.len > ctx->body_max + 1) {',
  },
  {
    file: 'lib/pw_handle.c', why: 'a run-time limit may raise the compile-time one', suites: ['unit', 'wagi'],
    from: 'ctx->body_max = (body_max == 0 || body_max > PW_BODY_MAX)',
    to: 'ctx->body_max = (body_max == 0)',
  },
  {
    file: 'lib/pw_handle.c', why: 'a signature of other than 64 digits is decoded anyway', suites: ['unit', 'wagi'],
    from: 'if (sig->len != PW_SIGNATURE_HEX_LEN || !all_hex(sig->ptr, sig->len)) {',
    to: 'if (!all_hex(sig->ptr, sig->len)) {',
  },
  {
    file: 'lib/pw_handle.c', why: 'the case-insensitive compare folds no case', suites: ['unit'],
    from: "if (c >= 'A' && c <= 'Z') {",
    to: "if (0) {",
  },
  {
    file: 'lib/pw_handle.c', why: 'any content type is accepted', suites: ['unit', 'wagi'],
    from: 'if (req->content_type.ptr != NULL && !is_json_media_type(req->content_type)) {',
    to: 'if (req->content_type.ptr != NULL && !is_json_media_type(req->content_type) && 0) {',
  },
  {
    file: 'lib/pw_handle.c', why: 'the status table answers 400 for unusable data', suites: ['unit', 'wagi'],
    from: '[PW_ERR_UNUSABLE_DATA]      = { 422,',
    to: '[PW_ERR_UNUSABLE_DATA]      = { 400,',
  },
  {
    file: 'lib/pw_handle.c', why: 'an ignored event is not a 2xx', suites: ['unit', 'wagi'],
    from: 'return st == PW_CAPTURED || st == PW_IGNORED;',
    to: 'return st == PW_CAPTURED;',
  },
  // ---------------------------------------------------------------- JSON and UTF-8
  {
    file: 'lib/pw_json.c', why: 'nesting one level deeper than the limit is accepted', suites: ['unit'],
    from: 'if (depth >= PW_MAX_DEPTH) {',
    to: 'if (depth > PW_MAX_DEPTH) {',
  },
  {
    file: 'lib/pw_json.c', why: 'one token more than the limit is accepted', suites: ['unit'],
    from: 'if (++ntok > PW_MAX_TOKENS) {',
    to: 'if (++ntok > PW_MAX_TOKENS + 1) {',
  },
  {
    file: 'lib/pw_json.c', why: 'three-byte overlong UTF-8 is accepted', suites: ['unit', 'wagi'],
    from: 'lo = 0xA0;          /* no overlongs */',
    to: 'lo = 0x80;          /* no overlongs */',
  },
  {
    file: 'lib/pw_json.c', why: 'UTF-8-encoded surrogates are accepted', suites: ['unit', 'wagi'],
    from: 'hi = 0x9F;          /* no UTF-16 surrogates */',
    to: 'hi = 0xBF;          /* no UTF-16 surrogates */',
  },
  {
    file: 'lib/pw_json.c', why: 'code points above U+10FFFF are accepted', suites: ['unit', 'wagi'],
    from: 'hi = 0x8F;          /* nothing above U+10FFFF */',
    to: 'hi = 0xBF;          /* nothing above U+10FFFF */',
  },
  {
    file: 'lib/pw_json.c', why: 'any high byte passes as a continuation byte', suites: ['unit', 'wagi'],
    from: 'if ((p[i] & 0xC0) != 0x80) {',
    to: 'if ((p[i] & 0x80) != 0x80) {',
  },
  {
    file: 'lib/pw_json.c', why: 'a lone low surrogate escape is decoded', suites: ['unit', 'diff'],
    from: 'if (cp >= 0xDC00 && cp <= 0xDFFF) {\n\t\t\t\treturn PW_DECODE_INVALID;  /* lone low surrogate */',
    to: 'if (0) {\n\t\t\t\treturn PW_DECODE_INVALID;  /* lone low surrogate */',
  },
  {
    file: 'lib/pw_json.c', why: 'a surrogate pair decodes one code point off', suites: ['unit', 'wagi', 'diff'],
    from: 'cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);',
    to: 'cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC01);',
  },
  {
    file: 'lib/pw_json.c', why: 'a string decoder out of room calls its input invalid', suites: ['unit'],
    from: '\t\t\tif (cap - o < n) {\n\t\t\t\treturn PW_DECODE_CAP;',
    to: '\t\t\tif (cap - o < n) {\n\t\t\t\treturn PW_DECODE_INVALID;',
  },
  {
    file: 'lib/pw_json.c', why: '\\b decodes as a form feed', suites: ['unit', 'diff'],
    from: "case 'b':  cp = '\\b'; break;",
    to: "case 'b':  cp = '\\f'; break;",
  },
  // ---------------------------------------------------------------- writers
  {
    file: 'lib/pw_json.c', why: 'the writer leaves backslashes unescaped', suites: ['unit', 'wagi'],
    from: "if (c >= 0x20 && c != '\"' && c != '\\\\') {",
    to: "if (c >= 0x20 && c != '\"') {",
  },
  {
    file: 'lib/pw_json.c', why: 'the writer puts the wrong digit in \\u00XX', suites: ['unit', 'wagi'],
    from: 'pw__hex(esc + 4, c, 2);',
    to: 'pw__hex(esc + 4, (c & 15) * 17, 2);',
  },
  {
    file: 'lib/pw_output.c', why: 'the log clip cuts a UTF-8 character in two', suites: ['unit', 'wagi'],
    from: "while (v.len > 0 && ((unsigned char)v.ptr[v.len] & 0xC0) == 0x80) {",
    to: "while (0 && v.len > 0 && ((unsigned char)v.ptr[v.len] & 0xC0) == 0x80) {",
  },
  {
    file: 'lib/pw_output.c', why: 'the receipt writes spaces raw', suites: ['unit', 'wagi'],
    from: ": (size_t)(c <= 0x20 || c == 0x7f || c == '\\\\');",
    to: ": (size_t)(c < 0x20 || c == 0x7f || c == '\\\\');",
  },
  {
    file: 'lib/pw_output.c', why: 'the receipt writes a C1 control or a bidirectional override raw', suites: ['unit', 'wagi'],
    from: 'size_t n = c >= 0x80 ? spoofing(p + i, end, &cp)',
    to: 'size_t n = c >= 0x80 ? (spoofing(p + i, end, &cp) & 0)',
  },
  {
    file: 'function/component.c', why: 'the receipt export lets a kept word break the line', suites: ['component'],
    from: "if (c < 0x20 || c > 0x7e || c == '\\\\') {",
    to: "if (c > 0x7e || c == '\\\\') {",
  },
  {
    file: 'function/component.c', why: 'the receipt export drops the kept word', suites: ['component'],
    from: 'pw_write_receipt(&r, kept_of(a->kept), bufsink_write, &out);',
    to: 'pw_write_receipt(&r, (kept_of(a->kept), NULL), bufsink_write, &out);',
  },
  {
    file: 'function/component.c', why: 'the receipt export reads a capture as an ignored event', suites: ['component'],
    from: 'if (a->outcome.tag == 0) {',
    to: 'if (a->outcome.tag != 0) {',
  },
  {
    file: 'lib/pw_output.c', why: 'the log writes a C1 control or a bidirectional override raw', suites: ['wagi'],
    from: 'size_t n = p[i] >= 0x80 ? spoofing(p + i, end, &cp) : 0;',
    to: 'size_t n = p[i] >= 0x80 ? (spoofing(p + i, end, &cp) & 0) : 0;',
  },
  {
    file: 'lib/pw_output.c', why: 'the last bidirectional isolate (U+2069) is not escaped', suites: ['wagi'],
    from: '(p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)',
    to: '(p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa8)',
  },
  {
    file: 'lib/pw_handle.c', why: 'a lone surrogate in type or id_event gets the NUL sentence', suites: ['unit'],
    from: 'return stop(res, PW_ERR_MALFORMED_REQUEST, r == STR_BAD',
    to: 'return stop(res, PW_ERR_MALFORMED_REQUEST, r != STR_BAD',
  },
  // ---------------------------------------------------------------- forward
  {
    file: 'lib/pw_forward.c', why: 'the forward signature leaves out the id\'s last byte', suites: ['unit'],
    from: 'br_hmac_update(&s->mac, id, id_len);',
    to: 'br_hmac_update(&s->mac, id, id_len - 1);',
  },
  {
    file: 'lib/pw_forward.c', why: 'a URL with user info is accepted', suites: ['unit'],
    from: "if (url[end] == '@') {",
    to: "if (0) {",
  },
  {
    file: 'lib/pw_forward.c', why: 'port 0 is accepted in a forward URL', suites: ['unit'],
    from: 'return v >= 1 && v <= 65535 ? PW_URL_OK : PW_URL_PORT;',
    to: 'return v <= 65535 ? PW_URL_OK : PW_URL_PORT;',
  },
  {
    file: 'lib/pw_forward.c', why: 'a forward URL with an empty host is accepted', suites: ['unit'],
    from: '\tif (len == 0) {\n\t\treturn PW_URL_HOST;',
    to: '\tif (0) {\n\t\treturn PW_URL_HOST;',
  },
  {
    file: 'lib/pw_forward.c', why: 'characters no URL allows pass in the path', suites: ['unit'],
    from: ': !url_char(c))',
    to: ': !url_char(c) && 0)',
  },
  {
    file: 'lib/pw_forward.c', why: 'base64 padding is not checked', suites: ['unit'],
    from: '(bits > 0 && (len + bits) % 4 != 0) || len % 4 == 1',
    to: 'len % 4 == 1',
  },
  {
    file: 'lib/pw_forward.c', why: 'a forward secret that is not base64 is called the wrong length', suites: ['unit'],
    from: 'return n == PW_DECODE_INVALID ? PW_FORWARD_KEY_BASE64 : PW_FORWARD_KEY_LENGTH;',
    to: 'return PW_FORWARD_KEY_LENGTH;',
  },
  {
    file: 'function/forward.c', why: 'a 4xx from the backend counts as kept', suites: ['forward'],
    from: 'if (a.status < 200 || a.status > 299) {',
    to: 'if (a.status < 200 || a.status > 499) {',
  },
  {
    file: 'function/forward.c', why: 'the answer\'s body is left unread (a socket leaks per delivery)', suites: ['forward'],
    from: 'for (polls = 0; polls < DRAIN_POLLS && drained < DRAIN_MAX; polls++) {',
    to: 'for (polls = 0; 0 && polls < DRAIN_POLLS && drained < DRAIN_MAX; polls++) {',
  },
  {
    file: 'function/forward.c', why: 'the response is dropped with its body unconsumed', suites: ['forward'],
    from: '\tresponse_consume(response, &body);',
    to: '\tbody.is_err = 1;',
  },
  {
    file: 'function/forward.c', why: 'every error-code reads as no answer in time', suites: ['forward'],
    from: '\t\ta.code = fr.code;',
    to: '\t\ta.code = CODE_DEADLINE;',
  },
  {
    file: 'function/forward.c', why: 'error-code cases are mapped one position off', suites: ['forward'],
    from: 'X("connection-refused",                 REFUSED)     \\\n\tX("connection-terminated",              CLOSED)      \\',
    to: 'X("connection-terminated",              REFUSED)     \\\n\tX("connection-refused",                 CLOSED)      \\',
  },
  {
    file: 'function/forward.c', why: 'a query with no path is sent as the request target as it is', suites: ['forward'],
    from: "if (t.len > 0 && t.ptr[0] == '?') {",
    to: 'if (0) {',
  },
  // ---------------------------------------------------------------- adapters
  {
    file: 'lib/pw_handle.c', why: 'header names match only in lower case', suites: ['unit', 'component'],
    from: '\t\tif (c >= \'A\' && c <= \'Z\') {\n\t\t\tc = (char)(c + 32);\n\t\t}\n\t\tif (c != lower[i]) {',
    to: '\t\tif (c != lower[i]) {',
  },
  {
    file: 'function/kit.h', why: 'a repeated header is not marked', suites: ['unit', 'component'],
    from: 'req->repeated |= *seen & bit;',
    to: 'req->repeated |= 0;',
  },
  {
    file: 'function/kit.h', why: 'size parsing wraps instead of refusing', suites: ['unit', 'wagi'],
    from: 'if (huge || v > (SIZE_MAX - d) / 10) {',
    to: 'if (0) {',
  },
  {
    file: 'function/kit.h', why: 'a size past SIZE_MAX reads as not a number', suites: ['unit', 'wagi'],
    from: '\tif (huge) {\n\t\treturn KIT_SIZE_HUGE;',
    to: '\tif (huge) {\n\t\treturn KIT_SIZE_BAD;',
  },
  {
    file: 'function/wagi.c', why: 'a CONTENT_LENGTH past SIZE_MAX is not taken as over the limit', suites: ['wagi'],
    from: 'if (known && (size == KIT_SIZE_HUGE || want > ctx.body_max)) {',
    to: 'if (known && want > ctx.body_max) {',
  },
  {
    file: 'function/wagi.c', why: 'the environment look-up matches a name prefix', suites: ['wagi'],
    from: "if (__builtin_strncmp(e, name, nlen) == 0 && e[nlen] == '=') {",
    to: 'if (__builtin_strncmp(e, name, nlen) == 0) {',
  },
  {
    file: 'function/wagi.c', why: 'a body shorter than CONTENT_LENGTH is accepted', suites: ['wagi'],
    from: 'return (known && len < want) ? KIT_BODY_SHORT : KIT_BODY_OK;',
    to: 'return KIT_BODY_OK;',
  },
  {
    file: 'function/wagi.c', why: 'a WAGI host gets the record it cannot keep', suites: ['wagi'],
    from: 'if (!direct && res.status == PW_CAPTURED) {',
    to: 'if (0 && !direct && res.status == PW_CAPTURED) {',
  },
  {
    file: 'function/http_env.c', why: 'a capture with no sink is acknowledged', suites: ['http'],
    from: 'if (fwd == SINK_NONE) {',
    to: 'if (0) {',
  },
  {
    file: 'function/settings.h', why: 'the Spin flavour has no body-limit variable', suites: ['http'],
    from: '"panora_webhook_max_body", \\\n\t\tREAD_WAGI | READ_HTTP | READ_SPIN,',
    to: '"panora_webhook_max_body", \\\n\t\tREAD_WAGI | READ_HTTP,',
  },
  {
    file: 'function/kit.h', why: 'a 405 is answered without Allow: POST', suites: ['unit', 'wagi'],
    from: 'h.allow_post = res->status == PW_ERR_METHOD_NOT_ALLOWED;',
    to: 'h.allow_post = 0;',
  },
  {
    file: 'function/settings.h', why: 'a setting is taken under a name it only begins', suites: ['unit'],
    from: '&& name_len == strlen(t->name) && memcmp(name, t->name, name_len) == 0)',
    to: '&& memcmp(name, t->name, name_len) == 0)',
  },
  {
    file: 'function/store.c', why: 'a known connection is stored again over the first', suites: ['http'],
    from: '\tif (w.u.flag) {\n\t\trc = SINK_KNOWN;',
    to: '\tif (0) {\n\t\trc = SINK_KNOWN;',
  },
  // ---------------------------------------------------------------- reference host
  {
    file: 'deploy/host/server.mjs', why: 'the listing answers through a proxy that sets only X-Real-IP', suites: ['host'],
    from: "'forwarded', 'via', 'x-real-ip', 'true-client-ip',",
    to: "'forwarded', 'via', 'true-client-ip',",
  },
  {
    file: 'deploy/host/server.mjs', why: 'the listing checks only X-Forwarded-For of its family', suites: ['host'],
    from: "|| h.startsWith('x-forwarded-') ||",
    to: "|| h === 'x-forwarded-for' ||",
  },
  {
    file: 'deploy/host/server.mjs', why: 'the listing serves a loopback client without the token', suites: ['host'],
    from: '\n      || !hasBearer(req, cfg.listingToken)) {',
    to: ') {',
  },
  {
    file: 'deploy/host/server.mjs', why: 'too many request headers get 400, not 431', suites: ['host'],
    from: "socket.end(err?.code === 'HPE_HEADER_OVERFLOW'",
    to: "socket.end(false",
  },
  {
    file: 'function/kit.h', why: 'a capture its sinks could not keep is logged without its id_event', suites: ['unit', 'wagi'],
    from: '\tres->id_event = id_event;\n\tres->type = type;\n\treturn KIT_STOP;',
    to: '\t(void)id_event;\n\t(void)type;\n\treturn KIT_STOP;',
  },
  {
    file: 'function/catchup_env.c', why: 'the catch-up command forwards connections older than its window', suites: ['catchup'],
    from: 'if (cutoff > 0 && at != 0 && at < cutoff) {',
    to: '(void)at;\n\tif (0) {',
  },
  {
    file: 'function/catchup_env.c', why: 'the high-water mark is read but not used', suites: ['catchup'],
    from: 'cutoff = st.mark > MARK_SLACK_S ? st.mark - MARK_SLACK_S : 0;',
    to: '(void)0;',
  },
  {
    file: 'function/catchup_env.c', why: 'the high-water mark never moves after a good run', suites: ['catchup'],
    from: '\treturn write_mark(&st, listed_at);',
    to: '\t(void)write_mark;\n\t(void)listed_at;\n\treturn catchup_fine;',
  },
  {
    file: 'function/catchup_spin.c', why: 'the Spin catch-up forwards a connection its store already has', suites: ['catchup'],
    from: '\tif (st == SINK_KNOWN) {\n\t\tt->known++;',
    to: '\tif (0) {\n\t\tt->known++;',
  },
  {
    file: 'function/catchup_spin.c', why: 'the Spin catch-up writes a connection whose forward failed', suites: ['catchup'],
    from: '\tdefault:\n\t\treturn catchup_fail("the backend did not accept a forward", res->message);',
    to: '\tdefault:\n\t\tbreak;',
  },
];
