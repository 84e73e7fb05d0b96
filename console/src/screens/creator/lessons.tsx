// A course's lessons in the editor: in order, each movable up or down, editable in
// place or deleted; and the form that appends one. Adding and editing share one form.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import {
  AddLessonDocument,
  DeleteLessonDocument,
  ReorderLessonsDocument,
  UpdateLessonDocument,
  type LessonKind,
} from "../../gql/graphql";
import { useT } from "../../lib/i18n";
import { errorFor, Field, FormErrors, formErrors, type ApiUserError } from "../../ui/kit";
import type { EditedCourse } from "./course-editor";

type Lesson = EditedCourse["lessons"][number];

/** The lessons in order, each movable up or down, editable, or deleted. */
export function Lessons(props: { course: EditedCourse }) {
  const t = useT();
  const { course } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [editing, setEditing] = useState<string | null>(null);
  const [reordering, reorder] = useMutation(ReorderLessonsDocument);
  const [deleting, remove] = useMutation(DeleteLessonDocument);
  const [, update] = useMutation(UpdateLessonDocument);
  const ids = course.lessons.map((lesson) => lesson.id);

  async function move(index: number, by: -1 | 1) {
    const order = [...ids];
    [order[index], order[index + by]] = [order[index + by], order[index]];
    setErrors((await reorder({ course: course.id, lessons: order })).data?.reorderLessons.userErrors ?? []);
  }

  return (
    <>
      <ol className="lessons" data-testid="lessons">
        {course.lessons.map((lesson, index) => (
          <li key={lesson.id} data-lesson={lesson.id}>
            {editing === lesson.id ? (
              <LessonForm
                initial={lesson}
                submitLabel={t("app.save")}
                onCancel={() => setEditing(null)}
                onSubmit={async (values) => {
                  const result = await update({ input: { lesson: lesson.id, ...values } });
                  const payload = result.data?.updateLesson;
                  if (payload?.lesson) setEditing(null);
                  return payload?.userErrors ?? [];
                }}
              />
            ) : (
              <>
                <span>
                  {lesson.title} · {t(`lesson.${lesson.kind}`)} · {Math.round(lesson.durationSeconds / 60)}′
                  {lesson.freePreview && ` · ${t("courses.freePreview")}`}
                </span>
                <span className="row-actions">
                  <button type="button" onClick={() => setEditing(lesson.id)}>
                    {t("courses.editLesson")}
                  </button>
                  <button type="button" disabled={index === 0 || reordering.fetching} onClick={() => move(index, -1)}>
                    {t("courses.up")}
                  </button>
                  <button
                    type="button"
                    disabled={index === ids.length - 1 || reordering.fetching}
                    onClick={() => move(index, 1)}
                  >
                    {t("courses.down")}
                  </button>
                  <button
                    type="button"
                    className="danger"
                    disabled={deleting.fetching}
                    onClick={async () =>
                      setErrors((await remove({ lesson: lesson.id })).data?.deleteLesson.userErrors ?? [])
                    }
                  >
                    {t("courses.deleteLesson")}
                  </button>
                </span>
              </>
            )}
          </li>
        ))}
      </ol>
      <FormErrors errors={errors} />
    </>
  );
}

/** Appends a lesson; the form empties once it is added. */
export function NewLessonForm(props: { courseId: string }) {
  const t = useT();
  const [, add] = useMutation(AddLessonDocument);
  const [round, setRound] = useState(0);
  return (
    <div data-testid="new-lesson">
      <h3>{t("courses.addLesson")}</h3>
      <LessonForm
        key={round}
        submitLabel={t("courses.addLesson")}
        onSubmit={async (values) => {
          const result = await add({
            input: {
              course: props.courseId,
              title: values.title,
              kind: values.kind,
              content: values.content,
              durationSeconds: values.durationSeconds,
              freePreview: values.freePreview,
            },
          });
          if (result.data?.addLesson.lesson) setRound((n) => n + 1);
          return result.data?.addLesson.userErrors ?? [];
        }}
      />
    </div>
  );
}

const LESSON_KINDS: LessonKind[] = ["VIDEO", "AUDIO", "ARTICLE"];
const LESSON_FIELDS = ["title", "kind", "content", "durationSeconds", "freePreview"] as const;

/** What the lesson form submits. */
interface LessonValues {
  title: string;
  kind: LessonKind;
  content: string | null;
  durationSeconds: number;
  freePreview: boolean;
}

/** A lesson's fields; the API's userErrors come back from `onSubmit` and show beside
 * the fields they name. */
function LessonForm(props: {
  initial?: Lesson;
  submitLabel: string;
  onSubmit: (values: LessonValues) => Promise<readonly ApiUserError[]>;
  onCancel?: () => void;
}) {
  const t = useT();
  const [values, setValues] = useState({
    title: props.initial?.title ?? "",
    kind: props.initial?.kind ?? ("VIDEO" as LessonKind),
    content: props.initial?.content ?? "",
    duration: props.initial ? String(props.initial.durationSeconds) : "",
    freePreview: props.initial?.freePreview ?? false,
  });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    // A duration that is not a whole number goes to the API as -1, which refuses it
    // beside the field like any other out-of-range value.
    const durationSeconds = /^\d+$/.test(values.duration.trim()) ? Number(values.duration) : -1;
    const refused = await props.onSubmit({
      title: values.title,
      kind: values.kind,
      content: values.content || null,
      durationSeconds,
      freePreview: values.freePreview,
    });
    setBusy(false);
    setErrors(refused);
  }

  return (
    <form className="form-grid" onSubmit={submit}>
      <Field label={t("courses.lessonTitle")} error={errorFor(errors, "title")}>
        <input name="lessonTitle" value={values.title} onChange={(e) => setValues({ ...values, title: e.target.value })} />
      </Field>
      <Field label={t("courses.lessonKind")} error={errorFor(errors, "kind")}>
        <select
          name="lessonKind"
          value={values.kind}
          onChange={(e) => setValues({ ...values, kind: e.target.value as LessonKind })}
        >
          {LESSON_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {t(`lesson.${kind}`)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("courses.lessonContent")} error={errorFor(errors, "content")} wide>
        <input
          name="lessonContent"
          value={values.content}
          onChange={(e) => setValues({ ...values, content: e.target.value })}
        />
      </Field>
      <Field label={t("courses.duration")} error={errorFor(errors, "durationSeconds")}>
        <input
          name="lessonDuration"
          inputMode="numeric"
          value={values.duration}
          onChange={(e) => setValues({ ...values, duration: e.target.value })}
        />
      </Field>
      <label className="check">
        <input
          type="checkbox"
          name="lessonFreePreview"
          checked={values.freePreview}
          onChange={(e) => setValues({ ...values, freePreview: e.target.checked })}
        />
        {t("courses.freePreview")}
      </label>
      <FormErrors errors={formErrors(errors, LESSON_FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            {t("app.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}
