"""Property judges for 10-url-shortener, shipped to students (see ``autograde.judges``).

They read facts that ``course.shortener`` drivers collect (codes issued, distinct, decoded; the
schema's columns, indexes and query plan) and say whether they meet the contract; none contains a
code generator or a schema. The judges that embed an answer (the redirect's status and reason, the
capacity plan) stay in ``autograde.reference.url_shortener``.
"""

from __future__ import annotations


# =========================================================================== counter codes

def judge_counter_codes(length, issued, check_order=True):
    """A judge for ``course.shortener.issue_codes`` facts: a bijection, decodable, not sequential."""
    def judge(facts):
        if facts["issued"] != issued:
            return f"next_codes gave {facts['issued']} codes in all; {issued} were asked for"
        if facts["bad_length"] or facts["bad_chars"]:
            return (f"{facts['bad_length']} codes do not have exactly {length} characters and "
                    f"{facts['bad_chars']} use characters outside the base-62 alphabet")
        if facts["distinct"] != issued:
            return f"only {facts['distinct']} of {issued} codes are distinct: the mapping is not a bijection"
        if facts["decode_wrong"]:
            return f"decode does not invert next_codes: [code, id, decode(code)] = {facts['decode_wrong']}"
        if check_order and length >= 5:
            if facts["top_step_share"] > 0.01:
                return (f"{facts['top_step_share']:.0%} of consecutive codes differ by the same amount (read as "
                        "base-62 numbers): seeing two codes lets anyone guess the next")
            if facts["first_chars"] < 40:
                return (f"the first 20,000 codes start with only {facts['first_chars']} different characters: "
                        "consecutive codes look alike")
        return None
    return judge


def judge_counter_exhausted(facts):
    """All 62**3 three-character codes once each, then ValueError; bad codes refused by decode."""
    problem = judge_counter_codes(3, 62 ** 3)(facts)
    if problem:
        return problem
    if facts["after_error"] != "ValueError":
        return f"next_codes(1) after the last code gave {facts['after_error'] or 'no error'}, not ValueError"
    return judge_bad_decodes(facts)


def judge_bad_decodes(facts):
    if any(name != "ValueError" for name in facts["probe_errors"]):
        return f"decode of codes of the wrong length or with bad characters gave {facts['probe_errors']}, not ValueError"
    return None


def judge_secrets_differ(facts):
    if facts["same_position_share"] > 0.01:
        return (f"{facts['same_position_share']:.0%} of codes are the same for two different secrets: "
                "the secret must change the sequence")
    return None


# =========================================================================== schema

REQUIRED_COLUMNS = ("short_code", "long_url", "created_at", "expires_at", "click_count")


def judge_schema(facts):
    """A judge for ``course.shortener.schema_facts``: the seed's schema, corrected."""
    if facts["error"]:
        return f"the schema does not run in SQLite: {facts['error']}"
    missing = [c for c in REQUIRED_COLUMNS if c not in facts["columns"]]
    if missing:
        return f"table urls lacks the columns {missing}"
    if not facts["duplicate_rejected"]:
        return "two rows with the same short_code were both accepted: short_code must be UNIQUE (or the key)"
    if facts["redundant"]:
        return (f"the indexes {facts['redundant']} repeat what a UNIQUE or PRIMARY KEY index already covers: "
                "each costs a write on every insert and buys nothing")
    if not any(word in facts["lookup_plan"] for word in ("USING INDEX", "USING COVERING INDEX", "USING PRIMARY KEY")):
        return f"looking up a short_code scans the table: {facts['lookup_plan']!r}"
    if not facts["expires_nullable"]:
        return "expires_at must allow NULL (no expiry) and have no default"
    return None
