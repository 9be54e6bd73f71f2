/*
 * fields.h -- the record's fields, by name and place, from the one field
 * list (PW_RECORD_FIELDS), for the unit tests that walk a record.
 */
#ifndef PW_TEST_FIELDS_H
#define PW_TEST_FIELDS_H

static const struct {
	const char *name;
	size_t offset;
} record_fields[] = {
#define PW_X_FIELD(name, kind) { #name, offsetof(pw_record, name) },
	PW_RECORD_FIELDS(PW_X_FIELD)
#undef PW_X_FIELD
};

/* Field `f` of `r`, in record_fields' order. */
static pw_span
record_field(const pw_record *r, size_t f)
{
	return *(const pw_span *)(const void *)((const char *)r + record_fields[f].offset);
}

#endif
