"""nbgrader configuration for this course (the repository root is the course directory).

solutions/ is the source, notebooks/ the student release; every grading workspace lives under
grading/ (git-ignored). `python -m autograde ...` reads this file too.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

here = os.path.dirname(os.path.abspath(__file__))
# The gradebook lives in grading/ (git-ignored): make sure the folder exists in a fresh clone.
os.makedirs(os.path.join(here, "grading", "exchange"), exist_ok=True)

c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "grading/submitted"
c.CourseDirectory.autograded_directory = "grading/autograded"
c.CourseDirectory.feedback_directory = "grading/feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "grading", "gradebook.db")
c.CourseDirectory.course_id = "system-design"

# Self-paced course: no shared exchange, but give nbgrader a writable one so its server
# extensions do not warn about /usr/local/share/nbgrader/exchange.
c.Exchange.root = os.path.join(here, "grading", "exchange")

# Deleted test cells are put back instead of silently becoming "needs manual grading".
c.OverwriteCells.add_missing_cells = True
# Per-cell time limit when grading (seconds).
c.Execute.timeout = 120
# Short tracebacks: feedback must not print hidden-test source lines. The kernel's own log shows errors
# only: ipykernel warns "Kernel is running over TCP without encryption" for every notebook graded, about
# a loopback connection nbgrader itself opened.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal", "--IPKernelApp.log_level=ERROR"]
# Feedback never shows hidden tests.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]

# formgrader's "Manage Assignments" page dumps this configuration when `debug` is on (its default), and
# logs "Formgrader config is not serializable" because of the classes above: the dump is for debugging
# configuration, so it is off.
c.FormgradeExtension.debug = False

# nbgrader's gradebook makes SQLAlchemy warn "Object of type <SubmittedAssignment> not in session, add
# operation ... will not proceed" on a student's first submission (nbgrader.api adds the row itself a
# moment later): noise on every autograde, so it is silenced for nbgrader's own module only.
import warnings  # noqa: E402

from sqlalchemy.exc import SAWarning  # noqa: E402

warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session", category=SAWarning,
                        module=r"nbgrader\.")
