"""The SPICE path (command line, output parsing, per-subset means) with a stand-in SpiceScorer.

The real SPICE needs the Stanford CoreNLP 3.6.0 jars, which are not on this machine; this test
compiles a small Java class with SPICE's entry point and output format (``javac`` required) so
that everything around the jar runs for real: the JVM call, its arguments, the JSON it writes.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

import omnidiff.metrics.scorer as scorer
from omnidiff.metrics.spice import SpiceSetup, spice_item_scores

FAKE_SPICE = r"""
package edu.anu.spice;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Stand-in with SPICE's command line: F-score = (number of words of the test caption) / 10. */
public class SpiceScorer {
    public static void main(String[] args) throws Exception {
        String in = args[0], out = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("-cache")) throw new IllegalStateException("-cache must not be used on Java 16+");
            if (args[i].equals("-out")) out = args[i + 1];
        }
        String text = new String(Files.readAllBytes(Paths.get(in)), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"image_id\": \"([^\"]*)\", \"test\": \"([^\"]*)\"").matcher(text);
        StringBuilder sb = new StringBuilder("[");
        while (m.find()) {
            if (sb.length() > 1) sb.append(", ");
            double f = m.group(2).trim().isEmpty() ? 0.0 : m.group(2).trim().split(" ").length / 10.0;
            sb.append("{\"image_id\": \"").append(m.group(1)).append("\", \"scores\": {\"All\": {\"pr\": 0.5, \"re\": 0.5, \"f\": ")
              .append(f).append("}}}");
        }
        Files.write(Paths.get(out), sb.append("]").toString().getBytes(StandardCharsets.UTF_8));
    }
}
"""


@pytest.fixture(scope="module")
def fake_spice(tmp_path_factory) -> SpiceSetup:
    if shutil.which("javac") is None or shutil.which("jar") is None:
        pytest.skip("javac/jar not installed")
    root = tmp_path_factory.mktemp("spice")
    src = root / "src" / "edu" / "anu" / "spice"
    src.mkdir(parents=True)
    (src / "SpiceScorer.java").write_text(FAKE_SPICE)
    classes = root / "classes"
    subprocess.run(["javac", "-d", str(classes), str(src / "SpiceScorer.java")], check=True, timeout=120)
    jar = root / "spice-1.0.jar"
    subprocess.run(["jar", "cf", str(jar), "-C", str(classes), "."], check=True, timeout=120)
    corenlp = root / "corenlp"
    corenlp.mkdir()
    return SpiceSetup(jar, corenlp)


@pytest.mark.timeout(120)
def test_spice_item_scores_parses_the_jar_output(fake_spice):
    scores = spice_item_scores(fake_spice, [("a", "one two three", ["x"]), ("b", "", ["y"])])
    assert scores == {"a": pytest.approx(0.3), "b": 0.0}


@pytest.mark.timeout(300)
def test_score_captions_reports_spice_per_subset(fake_spice, monkeypatch):
    monkeypatch.setattr(scorer, "find_spice", lambda: fake_spice)
    preds = {"a": "one two three four", "b": "one two", "c": "one two three four five six"}
    refs = {k: ["one two three"] for k in preds}
    result = scorer.score_captions(preds, refs, {"ab": ["a", "b"], "c": ["c"]})
    assert result.metrics["SPICE"] == pytest.approx((0.4 + 0.2 + 0.6) / 3)
    assert result.subsets["ab"]["metrics"]["SPICE"] == pytest.approx(0.3)
    assert result.subsets["c"]["metrics"]["SPICE"] == pytest.approx(0.6)
    assert "SPICE" not in result.notes
