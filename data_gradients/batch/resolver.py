"""Finding the images and the labels in dict-like batches, with the user, once.

When a batch is not an ``(images, labels)`` pair and no extractor or key path was
given, :class:`BatchResolver` prints the batch structure as a numbered tree, asks
which item is the images and which the labels, remembers the answer per batch
structure (see :mod:`~data_gradients.batch.resolver_cache`) and prints the
``images_key=`` / ``labels_key=`` arguments that skip the questions. Without a
terminal (CI, batch jobs) and no stored answer it raises instead of waiting.
"""
from __future__ import annotations

import builtins
import json
import logging
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from tqdm import tqdm

from data_gradients.batch.resolver_cache import ResolverCache, structure_signature
from data_gradients.batch.resolver_rules import rules_for
from data_gradients.batch.resolver_tree import Item, Path_, Style, build_tree, describe_item, render_tree
from data_gradients.batch.structure import (
    EVERY,
    format_path,
    get_path,
    is_record_list,
    parse_path,
)
from data_gradients.errors import UnresolvedBatchError

logger = logging.getLogger("data_gradients")

Extractor = Callable[[Any], Any]
ROLES = ("images", "labels")

def stdin_is_interactive() -> bool:
    """True on a terminal, or in a Jupyter-like kernel where ``input()`` works."""
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            return True
    except (AttributeError, ValueError):  # replaced or closed stdin
        pass
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def paste_line(images: Optional[Path_], labels: Optional[Path_]) -> str:
    """``images_key="image", labels_key="target.masks"`` for the roles given."""
    parts = [f"{role}_key={json.dumps(format_path(p))}" for role, p in zip(ROLES, (images, labels)) if p is not None]
    return ", ".join(parts)


def path_extractor(path: Path_, role: str) -> Extractor:
    """Takes ``path`` out of every batch; a batch without it is an error naming the path."""
    text = format_path(path)

    def extract(batch: Any) -> Any:
        try:
            return get_path(batch, path)
        except KeyError as e:
            raise UnresolvedBatchError(
                f"the batch structure changed: the {role} were taken from {text!r} in the first batch, but this "
                f"batch has no such item ({e.args[0]}). Every batch must have the same structure; pass "
                f"`{role}_extractor=` a callable for batches that differ."
            ) from None

    extract.__name__ = f"{role}_key={json.dumps(text)}"
    return extract


class BatchResolver:
    """Resolver for :class:`~data_gradients.batch.extraction.BatchSplitter`: asks, remembers, or refuses.

    Args:
        task: "segmentation", "detection" or "classification"; decides which items can be
            the images and the labels (see ``RULES``).
        reset: forget the stored answer for this batch structure and ask again.
        verbose: say on stderr when a stored answer is used (else log it at INFO level).
        cache: where answers are remembered (default: the user's cache directory).
        stream / input_fn / interactive: the conversation's output, input and whether
            asking is possible (defaults: stdout, ``input``, stdin is a terminal or Jupyter).
    """

    def __init__(self, task: str, *, reset: bool = False, verbose: bool = True, cache: Optional[ResolverCache] = None,
                 stream: Optional[TextIO] = None, input_fn: Optional[Callable[[str], str]] = None,
                 interactive: Optional[bool] = None):
        self.task = task
        self.rules = rules_for(task)
        self.reset = reset
        self.verbose = verbose
        self.cache = cache
        self.stream = stream
        self.input_fn = input_fn
        self.interactive = interactive
        self.chosen: Dict[str, Path_] = {}

    def __call__(self, batch: Any, *, need_images: bool = True,
                 need_labels: bool = True) -> Tuple[Optional[Extractor], Optional[Extractor]]:
        with tqdm.external_write_mode(file=self._out(), nolock=True):  # progress bars step aside
            return self._resolve(batch, need_images, need_labels)

    def _resolve(self, batch: Any, need_images: bool,
                 need_labels: bool) -> Tuple[Optional[Extractor], Optional[Extractor]]:
        needed = tuple(r for r, need in zip(ROLES, (need_images, need_labels)) if need)
        root, numbered = build_tree(batch, self.rules)
        cache = self.cache if self.cache is not None else ResolverCache()
        key, structure = structure_signature(batch, self.task)
        if self.reset:
            if cache.forget(key):
                self._note(f"data_gradients: forgot the stored answer for this batch structure ({cache.path})")
            self.reset = False
        else:
            stored = self._stored(cache, key, batch, needed)
            if stored is not None:
                return self._extractors(stored)
        interactive = stdin_is_interactive() if self.interactive is None else self.interactive
        if not interactive:
            raise UnresolvedBatchError(self._refusal(batch, root, numbered, needed, "standard input is not a terminal"))
        chosen = self._ask(batch, root, numbered, needed)
        saved = cache.put(key, images=_fmt(chosen.get("images")), labels=_fmt(chosen.get("labels")),
                          task=self.task, structure=structure)
        out = self._out()
        print(f"\nUsing {paste_line(chosen.get('images'), chosen.get('labels'))} for every batch of this run.",
              file=out)
        if saved:
            print(f"Remembered for batches of this structure in {cache.path}", file=out)
        print("To skip these questions in code, pass to the manager:\n    "
              + paste_line(chosen.get("images"), chosen.get("labels")) + "\n", file=out, flush=True)
        return self._extractors(chosen)

    # ----------------------------------------------------------------- stored
    def _stored(self, cache: ResolverCache, key: str, batch: Any,
                needed: Tuple[str, ...]) -> Optional[Dict[str, Path_]]:
        entry = cache.get(key)
        if entry is None:
            return None
        chosen: Dict[str, Path_] = {}
        for role in needed:
            text = entry.get(role)
            if not isinstance(text, str):
                return None
            path = parse_path(text)
            try:
                value = get_path(batch, path)
            except KeyError:
                return None
            if not getattr(self.rules, role)(value):
                return None
            chosen[role] = path
        self._note(f"data_gradients: using the stored answer for this batch structure: "
                   f"{paste_line(chosen.get('images'), chosen.get('labels'))} (saved {entry.get('saved', '?')}).\n"
                   f"  To choose again, pass reset_resolver=True or delete {cache.path}")
        return chosen

    def _note(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)
        else:
            logger.info(text)

    # -------------------------------------------------------------------- ask
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _ask(self, batch: Any, root: Item, numbered: Dict[int, Item], needed: Tuple[str, ...]) -> Dict[str, Path_]:
        out = self._out()
        style = Style.for_stream(out)
        for role in needed:
            if not any(role in it.roles for it in numbered.values()):
                raise UnresolvedBatchError(self._refusal(batch, root, numbered, needed, f"no item can be the {role}"))
        which = "Yellow items" if style.colour else "Items tagged on the right"
        print(f"\ndata_gradients: the batch is {_what(batch)}, not an (images, labels) pair.\n"
              f"{which} could be the {' or the '.join(needed)} of a {self.task or 'this'} dataset:\n", file=out)
        print(render_tree(root, style) + "\n", file=out, flush=True)
        chosen: Dict[str, Item] = {}
        for role in needed:
            chosen[role] = self._ask_role(role, numbered, style, taken=chosen.get("images"), batch=batch, root=root)
        return {role: item.path for role, item in chosen.items()}

    def _ask_role(self, role: str, numbered: Dict[int, Item], style: Style, taken: Optional[Item],
                  batch: Any, root: Item) -> Item:
        candidates = [n for n, it in numbered.items() if role in it.roles and it is not taken]
        if not candidates:
            raise UnresolvedBatchError(self._refusal(batch, root, numbered, (role,),
                                                     f"no item but the images can be the {role}"))
        default = _default(role, [numbered[n] for n in candidates])
        options = _or_list([str(n) for n in candidates])
        hint = f"{options}; Enter for {default.number}" if default is not None else options
        which = "Which one of the yellow items" if style.colour else "Which item"
        prompt = f"{which} is your {role}? ({hint}): "
        ask = self.input_fn or builtins.input
        out = self._out()
        refuse = lambda why: UnresolvedBatchError(self._refusal(batch, root, numbered, (role,), why))  # noqa: E731
        while True:
            try:
                answer = ask(prompt)
            except EOFError:
                raise refuse("no answer (end of input)") from None
            except KeyboardInterrupt:  # nothing was read yet: an empty "partial" report would help nobody
                raise refuse("the question was cancelled") from None
            except Exception as e:  # e.g. a notebook frontend without input support
                raise refuse(f"cannot read an answer ({type(e).__name__}: {e})") from None
            item, reason = self._check(answer, role, numbered, candidates, default, taken)
            if item is not None:
                return item
            print(reason, file=out, flush=True)

    def _check(self, answer: str, role: str, numbered: Dict[int, Item], candidates: List[int],
               default: Optional[Item], taken: Optional[Item]) -> Tuple[Optional[Item], str]:
        text = answer.strip().strip("[]").strip()
        if not text:
            if default is not None:
                return default, ""
            return None, f"Type the number of an item, e.g. {candidates[0]}."
        if not text.isdigit():
            return None, f"{answer.strip()!r} is not a number; type the number in brackets, e.g. {candidates[0]}."
        n = int(text)
        if n not in numbered:
            return None, f"There is no item {n}; the items are numbered 1 to {len(numbered)}."
        item = numbered[n]
        if item is taken:
            return None, f"[{n}] {item.key} is already your images; choose another item for the {role}."
        if role not in item.roles:
            expected = getattr(self.rules, f"{role}_expected")
            return None, (f"[{n}] {item.key} cannot be the {role} of a {self.task or 'this'} dataset: it is "
                          f"{describe_item(item)}; expected {expected}.")
        return item, ""

    # ----------------------------------------------------------------- refuse
    def _refusal(self, batch: Any, root: Item, numbered: Dict[int, Item], needed: Tuple[str, ...], why: str) -> str:
        lines = [f"data_gradients cannot tell which item of the batch holds the {' and which the '.join(needed)}, "
                 f"and cannot ask: {why}.",
                 f"The batch is {_what(batch)}, not an (images, labels) pair:", "",
                 render_tree(root, Style(colour=False, unicode=Style.for_stream(sys.stderr).unicode)), ""]
        example: Dict[str, Optional[Path_]] = {"images": None, "labels": None}
        for role in needed:
            items = [it for it in numbered.values() if role in it.roles]
            expected = getattr(self.rules, f"{role}_expected")
            every = ", ".join(json.dumps(it.key) for it in numbered.values())
            paths = ", ".join(json.dumps(it.key) for it in items) or f"none (expected {expected}); items: {every}"
            lines.append(f"Candidates for the {role}: {paths}")
            others = [it for it in items if it.path != example["images"]]
            pick = _default(role, others) or (others[0] if others else None)
            example[role] = pick.path if pick is not None else None
        if any(example[r] is not None for r in needed):
            lines += ["Pass the key paths to the manager, for example:",
                      "    " + paste_line(example["images"], example["labels"])]
        lines.append("or `images_extractor=` / `labels_extractor=` callables; or run once in a terminal to answer "
                     "the questions (the answer is remembered for this batch structure).")
        return "\n".join(lines)

    def _extractors(self, chosen: Dict[str, Path_]) -> Tuple[Optional[Extractor], Optional[Extractor]]:
        self.chosen = dict(chosen)  # the last answer, as key paths (shared with other ranks)
        return tuple(path_extractor(chosen[r], r) if r in chosen else None for r in ROLES)  # type: ignore[return-value]


_NAME_HINTS = {
    "images": ("image", "img", "pixel", "input", "rgb", "photo", "x"),
    "labels": ("mask", "label", "target", "seg", "box", "annot", "gt", "class", "cls", "category", "y"),
}


def _default(role: str, items: List[Item]) -> Optional[Item]:
    """The only candidate, or the only one whose name looks like the role (a container
    of labels first); else None."""
    if len(items) == 1:
        return items[0]
    hints = _NAME_HINTS[role]
    named = [it for it in items if any(_name_matches(str(p), hints) for p in it.path if p != EVERY)]
    if len(named) > 1:  # e.g. "targets" (dicts with boxes and labels) over "targets.*.boxes"
        named = [it for it in named if not it.leaf]
    return named[0] if len(named) == 1 else None


def _name_matches(name: str, hints: Sequence[str]) -> bool:
    low = name.lower()
    tokens = set(re.split(r"[^a-z0-9]+", low))
    return any(h in tokens or (len(h) > 2 and h in low) for h in hints)


def _or_list(items: List[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _fmt(path: Optional[Path_]) -> Optional[str]:
    return None if path is None else format_path(path)


def _what(batch: Any) -> str:
    if isinstance(batch, dict):
        return "a dict"
    if is_record_list(batch):
        return f"a {type(batch).__name__} of per-sample dicts"
    if isinstance(batch, (list, tuple)):
        return f"a {type(batch).__name__} of {len(batch)} items"
    return f"a {type(batch).__name__}"


__all__ = ["BatchResolver", "build_tree", "render_tree", "rules_for", "stdin_is_interactive"]
