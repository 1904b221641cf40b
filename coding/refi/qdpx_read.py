"""Read a REFI-QDA project (.qdpx) from any tool, tolerantly and exactly.

Tolerated, each with a warning where it matters: any project namespace (or none), GUIDs in
any case and with braces, ``Sources/`` or ``sources/`` (paths resolved ignoring case), a bare
relative ``plainTextPath``, a stray ``.root`` entry, a UTF-8 BOM and CRLF line ends, an empty
``<Sets/>``, positions in UTF-16 code units (NVivo) rather than code points. Refused, with a
clear error: unsafe archive entries, oversize archives, malformed XML, DTDs and entities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from coding.errors import InvalidInput, Problem
from coding.model import NAME_RE, Code
from coding.refi.cases import Case, read_cases, read_values
from coding.refi.qdc import read_codes, tolerate_empty_sets
from coding.refi.qdpx_write import VERSION_VARIABLE
from coding.refi.xml import child, children, grandchildren, local, norm_guid, parse_xml
from coding.xmlzip import Archive, read_archive

_SCHEMES = ("internal://",)
_EXTERNAL = ("relative://", "absolute://", "file://", "http://", "https://")


@dataclass(frozen=True)
class Source:
    guid: str
    name: str
    raw: str  # the text as written (a BOM removed), which positions refer to
    title: str = ""
    programme: str = ""
    version: int | None = None  # Concord's ``document_version`` variable, when present
    variables: tuple[tuple[str, str, str], ...] = ()  # other variables: name, type, value


@dataclass(frozen=True)
class RawCoding:
    source: str  # source guid
    start: int
    end: int
    code_id: str
    coder: str
    where: str
    whole: bool = False  # a Coding directly under its TextSource: the whole text


@dataclass
class Project:
    name: str
    origin: str
    coders: list[str]
    codes: list[Code]
    sources: list[Source]
    codings: list[RawCoding]
    warnings: list[str] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    selections: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # guid -> span


# Names the agreement engine gives its own pseudo-coders: a user called so would be mixed up
# with them (the consensus coding, the NLP suggestions) in every figure.
RESERVED_CODERS = ("consensus", "nlp")


def _coder_name(name: str, key: str, taken: set[str], warnings: list[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.@-]+", "_", name.strip()).strip("_.-@")[:64]
    if not base or not NAME_RE.match(base):
        base = f"user-{key[:8]}"
    if base.lower() in RESERVED_CODERS:
        renamed = f"{base}-imported"
        warnings.append(
            f"user {base!r} has a name Concord reserves for its own {base.lower()} coding; "
            f"imported as {renamed!r}"
        )
        base = renamed
    name_out, n = base, 2
    while name_out in taken:
        name_out, n = f"{base[:60]}-{n}", n + 1
    return name_out


def _project_file(archive: Archive, source: str) -> bytes:
    data = archive.read("project.qde")
    if data is not None:
        return data
    found = [n for n in archive.files if n.lower().endswith(".qde") and "/" not in n]
    if len(found) != 1:
        raise InvalidInput(
            source,
            [
                Problem(
                    "archive", "no project.qde in the archive; is this a REFI-QDA project (.qdpx)?"
                )
            ],
        )
    return archive.files[found[0]]


def _text_of(
    element: etree._Element,
    archive: Archive,
    where: str,
    problems: list[Problem],
    warnings: list[str],
) -> str | None:
    content = child(element, "PlainTextContent")
    if content is not None and content.text:
        return str(content.text).removeprefix("\ufeff")
    path = (element.get("plainTextPath") or "").strip()
    if not path:
        problems.append(Problem(where, "no plainTextPath and no PlainTextContent"))
        return None
    if path.lower().startswith(_EXTERNAL):
        problems.append(
            Problem(
                where,
                f"text {path!r} is outside the archive; export the "
                "project with its sources embedded",
            )
        )
        return None
    inner = path[len("internal://") :] if path.lower().startswith(_SCHEMES) else path
    if not path.lower().startswith(_SCHEMES):
        warnings.append(f"{where}: bare relative plainTextPath {path!r}; looked up in the archive")
    candidates = [f"sources/{inner}", inner, f"sources/{inner.rsplit('/', 1)[-1]}"]
    data = next((d for d in map(archive.read, candidates) if d is not None), None)
    if data is None:
        problems.append(Problem(where, f"source text {path!r} not found in the archive"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return str(data.decode("utf-16"))
        problems.append(Problem(where, f"source text {path!r} is not UTF-8"))
        return None


def _variable(element: etree._Element, variables: dict[str, str], name: str, kind: str) -> str:
    """The value of the variable called ``name`` (a ``TextValue`` or ``IntegerValue``...)."""
    for value in children(element, "VariableValue"):
        ref = child(value, "VariableRef")
        key = norm_guid(ref.get("targetGUID")) if ref is not None else None
        text = child(value, kind)
        if key is not None and variables.get(key) == name and text is not None:
            return (text.text or "").strip()
    return ""


def _version(element: etree._Element, variables: dict[str, str]) -> int | None:
    value = _variable(element, variables, VERSION_VARIABLE, "IntegerValue")
    return int(value) if value.isdigit() and int(value) > 0 else None


def _read_users(
    root: etree._Element, taken: set[str], problems: list[Problem], warnings: list[str]
) -> dict[str, str]:
    """User GUID -> coder name; a GUID given twice (in any case) is a problem."""
    users: dict[str, str] = {}
    for i, user_el in enumerate(grandchildren(root, "Users", "User")):
        key = norm_guid(user_el.get("guid"))
        where = f"Users/User[{i + 1}] {user_el.get('name') or ''}".strip()
        if key is None:
            problems.append(Problem(where, f"bad user guid {user_el.get('guid')!r}"))
            continue
        if key in users:
            problems.append(Problem(where, f"duplicate user guid {key} (also user {users[key]!r})"))
            continue
        users[key] = _coder_name(
            user_el.get("name") or user_el.get("id") or "", key, taken, warnings
        )
        taken.add(users[key])
    return users


def _project_root(archive: Archive, source: str) -> etree._Element:
    root = parse_xml(_project_file(archive, source), f"{source}:project.qde")
    if local(root) != "Project":
        raise InvalidInput(
            source, [Problem("project.qde", f"root element is <{local(root)}>, expected <Project>")]
        )
    return root


def _read_codebook(
    root: etree._Element, problems: list[Problem], warnings: list[str]
) -> tuple[list[Code], dict[str, str]]:
    """The codes of the project's CodeBook, and code GUID -> code id."""
    book = child(root, "CodeBook")
    codes_el = child(book, "Codes") if book is not None else None
    if codes_el is None:
        return [], {}
    return read_codes(codes_el, problems, warnings)


def read_qdpx(data: bytes, source: str, max_total: int | None = None) -> Project:
    """Parse a .qdpx archive, or raise InvalidInput listing every problem found."""
    archive = (
        read_archive(data, source)
        if max_total is None
        else read_archive(data, source, max_total=max_total)
    )
    root = _project_root(archive, source)
    problems: list[Problem] = []
    warnings: list[str] = []
    if archive.ignored:
        warnings.append(f"ignored archive entries: {', '.join(archive.ignored)}")
    tolerate_empty_sets(root, warnings)
    taken: set[str] = set()
    users = _read_users(root, taken, problems, warnings)
    codes, by_guid = _read_codebook(root, problems, warnings)
    declared = grandchildren(root, "Variables", "Variable")
    variables = {
        norm_guid(v.get("guid")) or "": (v.get("name") or "").strip().lower() for v in declared
    }
    typed = {
        norm_guid(v.get("guid")) or "": (
            (v.get("name") or "").strip(),
            v.get("typeOfVariable") or "",
        )
        for v in declared
    }
    project = Project(
        name=root.get("name") or "",
        origin=root.get("origin") or "",
        coders=[],
        codes=codes,
        sources=[],
        codings=[],
        warnings=warnings,
    )
    reader = _SourceReader(archive, users, taken, by_guid, variables, project, problems, typed)
    reader.read_all(child(root, "Sources"))
    project.cases = read_cases(root, typed)
    if problems:
        raise InvalidInput(source, problems)
    project.coders = sorted({c.coder for c in project.codings} | set(users.values()))
    return project


@dataclass
class _SourceReader:
    """Reads a project's text sources and their codings into ``project``, naming users not
    listed under <Users> as they turn up, and counting where each coding's coder came from."""

    archive: Archive
    users: dict[str, str]  # user GUID -> coder name
    taken: set[str]  # coder names given so far
    by_guid: dict[str, str]  # code GUID -> code id
    variables: dict[str, str]  # variable GUID -> its name, lowercase
    project: Project
    problems: list[Problem]
    typed: dict[str, tuple[str, str]]  # variable GUID -> its name and type
    picked: dict[str, int] = field(
        default_factory=lambda: {"Coding": 0, "PlainTextSelection": 0, "differ": 0}
    )

    def read_all(self, sources_el: etree._Element | None) -> None:
        """Every TextSource (a GUID given twice is a problem); other sources are skipped."""
        seen: dict[str, str] = {}
        elements = list(sources_el) if sources_el is not None else []
        texts = children(sources_el, "TextSource") if sources_el is not None else []
        for i, element in enumerate(texts):
            where = f"Sources/TextSource[{i + 1}] {element.get('name') or ''}".strip()
            key = norm_guid(element.get("guid"))
            if key is not None and key in seen:
                self.problems.append(
                    Problem(where, f"duplicate source guid {key} (also {seen[key]})")
                )
                continue
            if key is not None:
                seen[key] = where
            self.source(element, where)
        skipped = [
            local(e) for e in elements if isinstance(e.tag, str) and local(e) != "TextSource"
        ]
        if skipped:
            kinds = ", ".join(sorted(set(skipped)))
            self.project.warnings.append(f"{len(skipped)} non-text source(s) skipped ({kinds})")
        self.project.warnings.extend(_coder_warnings(self.picked))

    def who(self, value: str | None) -> str | None:
        """The coder a user GUID stands for; an unlisted GUID gets a name (with a warning)."""
        user = norm_guid(value)
        if user is None:
            return None
        if user not in self.users:
            self.users[user] = _coder_name("", user, self.taken, self.project.warnings)
            self.taken.add(self.users[user])
            self.project.warnings.append(
                f"user {user} is not listed under <Users>; named {self.users[user]!r}"
            )
        return self.users[user]

    def source(self, element: etree._Element, where: str) -> None:
        """One TextSource: its text and variables, then its codings."""
        key = norm_guid(element.get("guid"))
        if key is None:
            self.problems.append(Problem(where, f"bad source guid {element.get('guid')!r}"))
            return
        raw = _text_of(element, self.archive, where, self.problems, self.project.warnings)
        if raw is None:
            return
        description = child(element, "Description")
        self.project.sources.append(
            Source(
                guid=key,
                name=(element.get("name") or key).strip(),
                raw=raw,
                title=(description.text or "").strip() if description is not None else "",
                programme=_variable(element, self.variables, "programme", "TextValue"),
                version=_version(element, self.variables),
                variables=tuple(
                    v for v in read_values(element, self.typed) if v[0].lower() not in _OURS
                ),
            )
        )
        for j, selection in enumerate(children(element, "PlainTextSelection")):
            self.selection(selection, f"{where}/PlainTextSelection[{j + 1}]", key)
        whole = children(element, "Coding")
        if whole:
            self.codings(whole, f"{where}/Coding", key, (0, 0, None), in_selection=False)
            self.project.warnings.append(
                f"{where}: {len(whole)} coding(s) of the whole source imported as a span over "
                "the whole text"
            )

    def selection(self, selection: etree._Element, where: str, source: str) -> None:
        """The codings of one selection; the coder is Coding@creatingUser, else the
        selection's."""
        try:
            start = int(selection.get("startPosition", ""))
            end = int(selection.get("endPosition", ""))
        except ValueError:
            self.problems.append(Problem(where, "startPosition/endPosition are not whole numbers"))
            return
        key = norm_guid(selection.get("guid"))
        if key is not None:
            self.project.selections[key] = (source, start, end)
        span = (start, end, self.who(selection.get("creatingUser")))
        self.codings(children(selection, "Coding"), where, source, span, in_selection=True)

    def codings(
        self,
        codings: Sequence[etree._Element],
        where: str,
        source: str,
        span: tuple[int, int, str | None],
        *,
        in_selection: bool,
    ) -> None:
        """``Coding`` elements of a selection (counting whose creatingUser was used) or of a
        whole source."""
        start, end, sel_user = span
        for coding in codings:
            ref = child(coding, "CodeRef")
            code_key = norm_guid(ref.get("targetGUID")) if ref is not None else None
            if code_key is None or code_key not in self.by_guid:
                self.problems.append(Problem(where, "Coding refers to no code of the codebook"))
                continue
            coding_user = self.who(coding.get("creatingUser"))
            if in_selection and coding_user is not None:
                self.picked["Coding"] += 1
                self.picked["differ"] += int(sel_user is not None and sel_user != coding_user)
            elif in_selection and sel_user is not None:
                self.picked["PlainTextSelection"] += 1
            coder = coding_user or sel_user
            if coder is None:
                self.problems.append(Problem(where, _NO_CODER))
                continue
            self.project.codings.append(
                RawCoding(
                    source, start, end, self.by_guid[code_key], coder, where, not in_selection
                )
            )


_OURS = ("programme", VERSION_VARIABLE)  # variables a source's own fields hold
_NO_CODER = "no creatingUser on the Coding or its selection: cannot tell who coded it"


def _coder_warnings(picked: dict[str, int]) -> list[str]:
    """Where the coders of selections came from, when not from Coding@creatingUser alone."""
    warnings = []
    if picked["PlainTextSelection"]:
        warnings.append(
            f"coder taken from PlainTextSelection@creatingUser for "
            f"{picked['PlainTextSelection']} coding(s) whose Coding had none"
        )
    if picked["differ"]:
        warnings.append(
            f"{picked['differ']} coding(s) name a different creatingUser on Coding "
            "and on PlainTextSelection: Coding@creatingUser was used"
        )
    return warnings
