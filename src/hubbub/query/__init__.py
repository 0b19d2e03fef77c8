"""The search language shared by ``hubbub search``, exports and listening.

``parse`` turns query text into an :mod:`~hubbub.query.ast` tree,
``to_string`` renders a tree back, ``matches`` is the reference semantics the
store's SQL compilers must agree with.
"""

from hubbub.query.evaluate import matches
from hubbub.query.parser import QueryLimitError, QuerySyntaxError, parse, to_string

__all__ = ["QueryLimitError", "QuerySyntaxError", "matches", "parse", "to_string"]
