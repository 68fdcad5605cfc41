"""Help → Guide and Help → Keyboard shortcuts: how to read a barcode, a verdict and each view, with the papers
the methods come from; the shortcut table is built from the window's own actions, so it never drifts."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GUIDE = """
# Reading the analysis

**The question.** Does the population's activity live on a ring (head-direction cells), a torus (grid cells
of one module) or neither, and where on it is the animal at each moment?

## The pipeline
1. **Preprocess**: spikes are binned (10 ms) and smoothed with a Gaussian; slow bins (the animal at rest)
   are dropped when position is recorded. Epochs separated by gaps are smoothed on their own.
2. **TDA**: the busiest bins are reduced by PCA, downsampled to a few hundred points, and compared by a
   fuzzy-neighbourhood distance (−log membership, no unit); persistent homology of that point cloud gives the
   barcode (Gardner et al. 2022, *Nature* 602: 123–128; ripser: Bauer 2021).
3. **Decode**: each significant H1 bar gives a circular coordinate (rad) of every time bin (de Silva,
   Morozov & Vejdemo-Johansson 2011); a torus is aligned to its lattice.
4. **Views** show the coordinates against the animal's behaviour.

## The barcode and the verdict
Each bar is a loop (H1) or a cavity (H2) that is born and dies as the neighbourhood grows: the x axis is the
filtration value. Long bars are structure; the many short ones are noise. A bar that had not died when the
filtration was cut ends in a triangle: its length is a lower bound.

The **gap test** asks whether the gap between the k-th and the (k+1)-th longest bar is too large for noise
(the normalised spacings of the longest noise bars are exponential: Bobrowski & Skraba 2023; Rényi 1953).
It gives a p-value per gap, corrected over the positions tested (Bonferroni). With shuffles set, the same
gaps are compared with circularly shifted recordings instead.

- **ring**: one significant H1 bar (a circle): e.g. head-direction cells;
- **torus**: two significant H1 bars (and, with H2 computed, one H2): grid cells of one module;
- **none**: no structure the data can support. The reason is said: too few units with enough spikes, a
  fragmented cloud, too few shuffles, or a loop that only follows the animal's path through places.

A decoded ring should follow the recorded head direction (circular correlation ρ near 1): if it does not,
the loop is not the head-direction ring.

## The views
- **Barcode**: the bars with their p-values; hover a bar for its birth, death and lifetime.
- **CohoMap**: each decoded phase averaged over the arena (cm); a grid torus shows stripes whose spacing and
  angle give the lattice (Gardner et al. 2022).
- **CohoSpace**: each unit's firing over the decoded phases (rad): a grid cell has one field on the torus.
- **PathCompare**: the decoded path against the physical one (or the head direction), in time.
- **FR**: units × time rates (Hz), ordered by their preferred decoded phase.
- **FRM**: spatial rate maps (Hz; Skaggs et al. 1993 spatial information) or head-direction tuning curves.
- **GridScore**: autocorrelograms, gridness (Sargolini et al. 2006; Langston et al. 2010) against time-shift
  shuffles, spacing and orientation, and modules (Stensola et al. 2012).

Every view exports its figure (PNG, SVG, PDF), its data (NPZ, CSV) and its provenance (JSON).
"""


def shortcut_table(actions) -> str:
    """A Markdown table of the actions that have a shortcut: what, and the keys."""
    rows = ["| action | keys |", "|---|---|"]
    for action in actions:
        keys = ", ".join(s.toString() for s in action.shortcuts())
        if keys:
            rows.append(f"| {action.text().replace('&', '').rstrip('…')} | {keys} |")
    rows.append("| previous / next unit (Views) | Left, Right |")
    rows.append("| play / pause (PathCompare) | Space |")
    return "\n".join(rows)


class HelpDialog(QDialog):
    """A read-only Markdown page in a dialog (non-modal)."""

    def __init__(self, title: str, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(720, 640)
        layout = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown(markdown)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
