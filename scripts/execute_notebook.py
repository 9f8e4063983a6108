"""Execute one tslab notebook with nbclient and write the executed copy and its HTML.

scripts/run-notebooks.ts starts one process of this script per notebook, in its
own process group. The script prints JSON lines on stdout: {"event": "kernel",
"pid": N} once the kernel has started, then exactly one {"event": "result", ...}.
The result names the failing cell, and lists the time and the TensorFlow.js
tensor count after each code cell and the kernel's peak resident memory.
The kernel inherits this process's environment (AEKIT_MODE, AEKIT_METRICS_FILE).

The source notebook is only read; --parameters-source replaces the source of
the parameters cell in the copy that runs. The executed copy and the HTML export
are written through a temporary file `.NAME.PID.tmp` in the target folder that
is then renamed, and they are skipped when the run was interrupted.

Usage: python3 scripts/execute_notebook.py NOTEBOOK --executed OUT.ipynb
           --html OUT.html --timeout SECONDS --cell-timeout SECONDS
           [--parameters-cell INDEX --parameters-source TEXT]
"""

import argparse
import asyncio
import inspect
import json
import os
import queue
import re
import signal
import sys
import tempfile
import time
import traceback

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

KERNEL_NAME = "tslab"

# tslab 1.0.22 replies with status 'abort' to every execute request that
# arrives within 200 ms of a failed cell (handleExecute in tslab/dist/jupyter.js),
# and it ignores stop_on_error. nbclient sends the next cell at once, so after a
# cell tagged raises-exception the script waits this long before going on. If
# the kernel is too slow even for that, the next cell is reported as aborted.
ERROR_SETTLE_SECONDS = 0.5

ABORT_MESSAGE = (
    "the kernel aborted the cell without running it (execute_reply status 'abort'), "
    "as tslab does with requests that arrive within 200 ms of a failed cell"
)

# tslab prints a TypeScript diagnostic as "LINE:COLUMN - message".
DIAGNOSTIC = re.compile(r"^\d+:\d+ - ")
# The line that names a thrown Error as Node prints it, such as "TypeError: ..."
# or "AssertionError [ERR_ASSERTION]: ..."
ERROR_LINE = re.compile(r"^[\w$.]*(?:Error|Exception)\b")
MESSAGE_LIMIT = 300
SOURCE_LIMIT = 200

# Sent after each code cell to count the tensors that TensorFlow.js has
# allocated. It reads the engine that @tensorflow/tfjs-core 4.x keeps in the
# global `_tfengine` (getOrMakeEngine in tfjs-core/dist/engine.js). Every copy
# of tfjs shares that engine, and reading its state neither loads tfjs nor
# starts a backend, as tf.memory() would. tslab sends a cell's value as stdout
# text, where output that an earlier cell writes late also lands, so the probe
# writes a marked line.
TENSOR_PROBE = (
    'void process.stdout.write("aekit-tensors=" + '
    '((globalThis as any)._tfengine?.state?.numTensors ?? "none") + "\\n");'
)
TENSOR_LINE = re.compile(r"^aekit-tensors=(\d+|none)$", re.MULTILINE)


def emit(event):
    print(json.dumps(event), flush=True)


async def maybe_await(value):
    """Await `value` when the jupyter_client version in use returned a coroutine."""
    if inspect.isawaitable(value):
        return await value
    return value


def first_line(text, limit):
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def summarize_error(cell, reply_content):
    """Return one line naming the error that a failed cell raised.

    tslab sends no ename or evalue in its execute_reply and no error output. It
    writes the diagnostic or the stack trace to the cell's stderr stream, so the
    summary is read from there.
    """
    if reply_content.get("ename"):
        text = f"{reply_content['ename']}: {reply_content.get('evalue', '')}"
        return first_line(text, MESSAGE_LIMIT)
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = f"{output.get('ename')}: {output.get('evalue')}"
            return first_line(text, MESSAGE_LIMIT)

    chunks = [
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    lines = "".join(chunks).splitlines()
    diagnostics = [line for line in lines if DIAGNOSTIC.match(line)]
    if diagnostics:
        extra = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        return first_line(diagnostics[0], MESSAGE_LIMIT - len(extra)) + extra
    errors = [line for line in lines if ERROR_LINE.match(line)]
    if errors:
        return first_line(errors[-1], MESSAGE_LIMIT)
    # A thrown value that is not an Error is printed with util.inspect, as the
    # last chunk written to stderr.
    if chunks and first_line(chunks[-1], MESSAGE_LIMIT):
        return "thrown: " + first_line(chunks[-1], MESSAGE_LIMIT)
    return "the cell failed without writing an error message"


def kernel_pid(kernel_manager):
    """Return the kernel's process id from jupyter_client 7+ (provisioner) or 6.x."""
    provisioner = getattr(kernel_manager, "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    if pid is None:
        pid = getattr(getattr(kernel_manager, "kernel", None), "pid", None)
    return pid


def read_peak_rss(pid):
    """Return the peak resident memory of process `pid` in bytes (VmHWM), or None.

    Linux only: it reads /proc, which has no VmHWM for an exited process.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def outcome(status, cell_index=None, message=None, cells=None):
    source = None
    if cell_index is not None and cells is not None:
        source = first_line(cells[cell_index].get("source", ""), SOURCE_LIMIT)
    return {
        "status": status,
        "cell": None if cell_index is None else cell_index + 1,
        "source": source,
        "message": message,
    }


class NotebookRun:
    """One execution of a notebook on a fresh tslab kernel."""

    def __init__(self, notebook, folder, timeout, cell_timeout, error_settle):
        self.notebook = notebook
        self.folder = folder
        self.timeout = timeout
        self.cell_timeout = cell_timeout
        self.error_settle = error_settle
        self.client = NotebookClient(
            notebook,
            kernel_name=KERNEL_NAME,
            timeout=cell_timeout,
            resources={"metadata": {"path": folder}},
            on_cell_executed=self.record_reply,
        )
        self.reply = None
        self.cell_index = None
        self.stop_reason = None
        self.task = None
        self.shutting_down = False
        # One entry per code cell that ran or was skipped: cell, status, seconds, tensors.
        self.cell_records = []
        self.peak_rss = None
        # The kernel writes its own stdout and stderr here rather than into the
        # pipes that the runner reads, which would stay open after this process died.
        self.kernel_log = tempfile.TemporaryFile()

    def record_reply(self, cell, cell_index, execute_reply):
        self.reply = execute_reply

    def stop(self, reason):
        """Cancel the run, which then ends with status `reason`.

        `reason` is 'timed out' or 'interrupted'.
        """
        if self.stop_reason is not None or self.task is None:
            return
        self.stop_reason = reason
        # Cancelling the kernel shutdown itself would leave the kernel running.
        if not self.shutting_down:
            self.task.cancel()

    async def execute(self):
        cells = self.notebook.cells
        try:
            result = await self.execute_cells()
        except asyncio.CancelledError:
            result = None
        except CellTimeoutError:
            message = f"cell timed out after {self.cell_timeout} s"
            result = outcome("timed out", self.cell_index, message, cells)
        except DeadKernelError:
            # nbclient also raises DeadKernelError when the run is cancelled
            # while a cell is executing, so stop_reason is checked below first.
            message = "the kernel exited while running this cell" + self.kernel_output()
            result = outcome("kernel died", self.cell_index, message, cells)
        except CellExecutionError:
            cell = cells[self.cell_index]
            message = summarize_error(cell, self.reply["content"] if self.reply else {})
            result = outcome("failed", self.cell_index, message, cells)
        except Exception as error:
            traceback.print_exc()
            message = f"{type(error).__name__}: {error}" + self.kernel_output()
            result = outcome("failed", self.cell_index, message, cells)
        finally:
            self.shutting_down = True
            await self.shutdown_kernel()

        if self.stop_reason == "timed out":
            message = f"notebook timed out after {self.timeout} s"
            return outcome("timed out", self.cell_index, message, cells)
        if self.stop_reason == "interrupted":
            message = "the run was interrupted"
            return outcome("interrupted", self.cell_index, message, cells)
        return result

    async def execute_cells(self):
        client = self.client
        client.km = client.create_kernel_manager()
        await client.async_start_new_kernel(
            cwd=self.folder, stdout=self.kernel_log, stderr=self.kernel_log
        )
        emit({"event": "kernel", "pid": kernel_pid(client.km)})
        await client.async_start_new_kernel_client()

        # The HTML export takes its syntax highlighting from language_info.
        message_id = await maybe_await(client.kc.kernel_info())
        reply = await client.async_wait_for_reply(message_id)
        if reply is not None and "language_info" in reply["content"]:
            language_info = reply["content"]["language_info"]
            self.notebook.metadata["language_info"] = language_info

        for index, cell in enumerate(self.notebook.cells):
            self.cell_index = index
            self.reply = None
            runs = cell.cell_type == "code" and cell.source.strip()
            if not runs:
                continue
            record = {"cell": index + 1, "status": "failed", "seconds": None}
            self.cell_records.append(record)
            if client.skip_cells_with_tag in cell.metadata.get("tags", []):
                record.update(status="skipped", seconds=0)
                continue
            started = time.monotonic()
            try:
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1
                )
            finally:
                record["seconds"] = round(time.monotonic() - started, 3)
            status = self.reply["content"]["status"] if self.reply else None
            # nbclient treats only status 'error' as a failure.
            if status == "abort":
                record["status"] = "aborted"
                return outcome("failed", index, ABORT_MESSAGE, self.notebook.cells)
            record["status"] = "ok"
            if status == "error":
                # nbclient let the error pass, so the cell is tagged raises-exception.
                record["status"] = "raised"
                await asyncio.sleep(self.error_settle)
            record["tensors"] = await self.count_tensors()
        self.cell_index = None
        return outcome("passed")

    async def count_tensors(self):
        """Return the number of tensors that TensorFlow.js has allocated, or None.

        None means that no copy of tfjs is loaded, or that the kernel did not
        reply to the probe within the cell timeout.
        """
        kc = self.client.kc
        message_id = await maybe_await(
            kc.execute(TENSOR_PROBE, store_history=False, stop_on_error=False)
        )
        deadline = time.monotonic() + self.cell_timeout
        try:
            reply = await self.next_message(kc.get_shell_msg, message_id, deadline)
            # Outputs arrive on the IOPub channel, which ends with the 'idle' status.
            text = ""
            while True:
                message = await self.next_message(kc.get_iopub_msg, message_id, deadline)
                content = message["content"]
                if message["msg_type"] == "stream":
                    text += content.get("text", "")
                if message["msg_type"] == "status" and content["execution_state"] == "idle":
                    break
        except TimeoutError as error:
            print(f"no tensor count after cell {self.cell_index + 1}: {error}", file=sys.stderr)
            return None
        counts = TENSOR_LINE.findall(text)
        if reply["content"]["status"] != "ok" or not counts:
            output = first_line(text, 200) or "no output"
            print(f"the tensor count probe failed ({output})", file=sys.stderr)
            return None
        return None if counts[-1] == "none" else int(counts[-1])

    async def next_message(self, receive, message_id, deadline):
        """Return the next message from `receive` whose parent is `message_id`.

        Raises TimeoutError at `deadline` or when the kernel has died.
        """
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the kernel did not reply in time")
            try:
                message = await maybe_await(receive(timeout=min(remaining, 1)))
            except queue.Empty:
                if not await maybe_await(self.client.km.is_alive()):
                    raise TimeoutError("the kernel has died")
                continue
            if message["parent_header"].get("msg_id") == message_id:
                return message

    def kernel_output(self):
        """Return the last line the kernel process wrote outside of cells, if any."""
        self.kernel_log.seek(0)
        text = self.kernel_log.read().decode("utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return f" (kernel output: {first_line(lines[-1], 200)})" if lines else ""

    async def shutdown_kernel(self):
        client = self.client
        if client.km is not None and client.km.has_kernel:
            self.peak_rss = read_peak_rss(kernel_pid(client.km))
        try:
            if client.kc is not None:
                await maybe_await(client.kc.stop_channels())
                client.kc = None
            if client.km is not None and client.km.has_kernel:
                await maybe_await(client.km.shutdown_kernel(now=True))
        except Exception:
            print("failed to shut down the kernel:", file=sys.stderr)
            traceback.print_exc()


async def watch_parent(run):
    """Stop the run when the process that started this one has exited."""
    parent = os.getppid()
    while True:
        await asyncio.sleep(1)
        if os.getppid() != parent:
            run.stop("interrupted")
            return


async def run_notebook(run):
    loop = asyncio.get_running_loop()
    run.task = asyncio.ensure_future(run.execute())
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, run.stop, "interrupted")
    deadline = loop.call_later(run.timeout, run.stop, "timed out")
    watcher = asyncio.ensure_future(watch_parent(run))
    try:
        return await run.task
    finally:
        deadline.cancel()
        watcher.cancel()


def write_atomically(path, text):
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def write_outputs(notebook, executed_path, html_path):
    write_atomically(executed_path, nbformat.writes(notebook))
    name = os.path.splitext(os.path.basename(executed_path))[0]
    resources = {"metadata": {"name": name}}
    body, _ = HTMLExporter().from_notebook_node(notebook, resources=resources)
    write_atomically(html_path, body)


def override_parameters(notebook, arguments):
    """Replace the source of the parameters cell, or return why that failed."""
    index = arguments.parameters_cell
    cells = notebook.cells
    if index is None or not 0 <= index < len(cells):
        return f"--parameters-cell {index} is not a cell of this notebook"
    if "parameters" not in cells[index].metadata.get("tags", []):
        return f"cell {index + 1} is not tagged 'parameters'"
    cells[index].source = arguments.parameters_source
    return None


def parse_arguments():
    parser = argparse.ArgumentParser(
        description="Execute one notebook on the tslab kernel."
    )
    parser.add_argument("notebook", help="source notebook, which is only read")
    parser.add_argument("--executed", required=True, help="path of the executed copy")
    parser.add_argument("--html", required=True, help="path of the HTML export")
    parser.add_argument(
        "--timeout", type=int, required=True, help="seconds for the whole notebook"
    )
    parser.add_argument(
        "--cell-timeout", type=int, required=True, help="seconds for one cell"
    )
    parser.add_argument(
        "--parameters-cell",
        type=int,
        help="position of the cell tagged parameters, counting from 0",
    )
    parser.add_argument(
        "--parameters-source",
        help="source that replaces the parameters cell's in the copy that runs",
    )
    parser.add_argument(
        "--error-settle",
        type=float,
        default=ERROR_SETTLE_SECONDS,
        help="seconds to wait after a cell tagged raises-exception has failed",
    )
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    try:
        notebook = nbformat.read(arguments.notebook, as_version=4)
    except Exception as error:
        message = f"cannot read the notebook: {error}"
        emit({"event": "result", **outcome("failed", message=message)})
        return

    declared = notebook.metadata.get("kernelspec", {}).get("name", KERNEL_NAME)
    if declared != KERNEL_NAME:
        message = (
            f"the notebook declares kernel '{declared}', "
            f"but only '{KERNEL_NAME}' notebooks are run"
        )
        emit({"event": "result", **outcome("failed", message=message)})
        return

    if arguments.parameters_source is not None:
        error = override_parameters(notebook, arguments)
        if error:
            emit({"event": "result", **outcome("failed", message=error)})
            return

    folder = os.path.dirname(os.path.abspath(arguments.notebook))
    run = NotebookRun(
        notebook,
        folder,
        arguments.timeout,
        arguments.cell_timeout,
        arguments.error_settle,
    )
    result = asyncio.run(run_notebook(run))
    result["cells"] = run.cell_records
    result["kernel_peak_rss_bytes"] = run.peak_rss

    # The kernel is gone by now, so SIGINT and SIGTERM are ignored while the
    # outputs are written rather than cutting a file short. The runner still
    # kills this process if it does not exit in time.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if result["status"] != "interrupted":
        try:
            write_outputs(notebook, arguments.executed, arguments.html)
            result["written"] = True
        except Exception as error:
            traceback.print_exc()
            message = f"cannot write the outputs: {error}"
            result.update(outcome("failed", message=message))
    emit({"event": "result", **result})


if __name__ == "__main__":
    main()
