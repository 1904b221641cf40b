"""Build the demo study from the project's own codebook, manuals and codings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from coding.errors import Conflict, NotFound
from coding.model import OnProgress, ProgressEvent, no_progress
from coding.service import access
from coding.service.assignment import assign
from coding.service.codings import add_coders, import_codings
from coding.service.study import import_documents, init_study
from coding.service.suggest import run_suggestions

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_CODEBOOK = "codebooks/mechanisms.yaml"
DEMO_CORPUS = "corpus"
TRAINEE, TRAINEE_DOCUMENT = "chloe", "residential"
DEMO_MARKER = "demo_study"  # setting that marks a study built by build_demo
DEMO_PASSWORD = "demo"  # the demo study's published sign-in (README)
DEMO_USERS = (
    ("amira", "coder"),
    ("ben", "coder"),
    (TRAINEE, "coder"),
    ("rosa", "reviewer"),
    ("admin", "admin"),
)


@dataclass(frozen=True)
class DemoFiles:
    codebook: Path
    manuals: tuple[Path, ...]
    manifest: Path
    codings: Path


def demo_files(root: Path = PROJECT_ROOT) -> DemoFiles:
    """The demo's input files, checked to exist."""
    corpus_dir = root / DEMO_CORPUS
    files = DemoFiles(
        codebook=root / DEMO_CODEBOOK,
        manuals=tuple(sorted(corpus_dir.glob("*.md"))),
        manifest=corpus_dir / "manifest.csv",
        codings=corpus_dir / "codings.csv",
    )
    missing = [p for p in (files.codebook, files.manifest, files.codings) if not p.is_file()]
    if missing or not files.manuals:
        raise NotFound(
            f"demo files not found under {root}: "
            f"{', '.join(map(str, missing)) or 'no manuals in corpus/'}"
        )
    return files


def build_demo(
    target: str | Path,
    actor: str = "demo",
    root: Path = PROJECT_ROOT,
    on_progress: OnProgress = no_progress,
    suggest: bool = True,
) -> None:
    """Create the demo study at ``target``: codebook, four manuals, two coders' codings,
    a trainee coder with open work, and (unless ``suggest`` is False) NLP suggestions.

    ``on_progress`` hears each step as it starts: its stage (creating, importing, adding,
    training) and what it works on.
    """
    files = demo_files(root)
    on_progress(ProgressEvent("creating", item=f"{target} with {files.codebook.name}"))
    with init_study(target, actor, files.codebook) as store:
        store.set_setting(DEMO_MARKER, "true", actor)
        on_progress(ProgressEvent("importing", item=f"{len(files.manuals)} manuals"))
        import_documents(store, files.manuals, actor, manifest=files.manifest)
        on_progress(ProgressEvent("importing", item="two coders' codings"))
        import_codings(store, files.codings, actor, add_new_coders=True)
        # A third coder starts on one manual, so there is coding left to do in the app.
        add_coders(store, [TRAINEE], actor)
        assign(store, TRAINEE, actor, [TRAINEE_DOCUMENT])
        users = ", ".join(name for name, _ in DEMO_USERS)
        on_progress(
            ProgressEvent("adding", item=f"app users ({users}; password '{DEMO_PASSWORD}')")
        )
        for name, role in DEMO_USERS:
            access.add_user(store, name, role, DEMO_PASSWORD, actor, min_length=len(DEMO_PASSWORD))
        if suggest:
            on_progress(
                ProgressEvent("training", item="NLP suggestions (cross-fitted by document)")
            )
            run_suggestions(store, actor, "auto")


def is_demo_study(target: str | Path) -> bool:
    """True when ``target`` is a study that build_demo made (and so may be rebuilt)."""
    from coding.store import Store

    with Store.open(target) as store:
        return store.settings().get(DEMO_MARKER) == "true"


def rebuild_demo(
    target: str | Path,
    actor: str = "demo",
    root: Path = PROJECT_ROOT,
    on_progress: OnProgress = no_progress,
) -> None:
    """Build a fresh demo study beside ``target``, then swap it in; only over a demo study.

    A study that build_demo did not make is never touched, and if the build fails the old
    demo study is still there.
    """
    import os

    target = Path(target)
    if target.exists() and not is_demo_study(target):
        raise Conflict(f"{target} is not a demo study; refusing to replace it")
    fresh = target.with_name(f".{target.name}.building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{fresh}{suffix}").unlink(missing_ok=True)

    def renamed(event: ProgressEvent) -> None:
        """The event naming the study being rebuilt, not the file it is built in."""
        on_progress(replace(event, item=event.item.replace(str(fresh), str(target))))

    try:
        build_demo(fresh, actor, root, on_progress=renamed)
    except BaseException:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)
        raise
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, target)
