"""FastSelect renders what Django's Select renders: escaped labels and values, the selection, groups."""
from django import forms

from crm.core.widgets import FastSelect


def test_fast_select_escapes_and_marks_the_selection():
    choices = [("", "---------"), ("a&b", "<b>Tom & Jerry</b>"), ("Nordic", [("fi", "Suomi"), ("se", "Sverige")])]
    html = FastSelect(choices=choices, attrs={"class": "form-select"}).render("owner", "fi", attrs={"id": "id_owner"})
    assert html.startswith('<select name="owner" class="form-select" id="id_owner">')
    assert '<option value="a&amp;b">&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</option>' in html
    assert '<optgroup label="Nordic"><option value="fi" selected>Suomi</option><option value="se">Sverige</option></optgroup>' in html
    assert "<b>" not in html


def test_fast_select_agrees_with_djangos_select_on_options():
    choices = [("1", "One"), ("2", "Two")]
    fast = FastSelect(choices=choices).render("n", "2")
    slow = forms.Select(choices=choices).render("n", "2")
    assert "".join(fast.split()) == "".join(slow.split())  # Django's templates add line breaks
