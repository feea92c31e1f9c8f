"""A flow served from a script is pickled by value; a task function that times itself reaches ``STEP_TIMES``."""

import cloudpickle

from tasks.timing import STEP_TIMES


def test_step_times_pickle_as_the_process_own_instance():
    assert cloudpickle.loads(cloudpickle.dumps(STEP_TIMES)) is STEP_TIMES


def test_a_task_that_times_itself_can_be_pickled_by_value():
    from tasks.report import publish_report

    assert cloudpickle.loads(cloudpickle.dumps(publish_report)).name == "publish-report"
