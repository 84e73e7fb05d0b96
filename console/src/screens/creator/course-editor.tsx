// One of the creator's courses: its fields, its lessons (add, move, delete) and the
// publish and archive actions. Every userError shows beside the field it names.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Link, useParams } from "wouter";
import {
  AddLessonDocument,
  ArchiveCourseDocument,
  CourseEditorDocument,
  DeleteLessonDocument,
  PublishCourseDocument,
  ReorderLessonsDocument,
  UpdateCourseDocument,
  type LessonKind,
} from "../../gql/graphql";
import { fenToYuan, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { Badge, errorFor, Field, FormErrors, formErrors, PageHeader, QueryState, type ApiUserError } from "../../ui/kit";
import { CourseStatusBadge } from "../../ui/status";

/** The course as the editor query returns it. */
interface EditedCourse {
  id: string;
  title: string;
  subtitle?: string | null;
  category: string;
  description?: string | null;
  coverUrl?: string | null;
  status: "DRAFT" | "PUBLISHED" | "ARCHIVED";
  suspendedAt?: string | null;
  price: { amount: number; formatted: string };
  lessons: { id: string; position: number; title: string; kind: LessonKind; durationSeconds: number; freePreview: boolean }[];
}

export default function CourseEditor() {
  const t = useT();
  const id = decodeURIComponent(useParams<{ id: string }>().id);
  // A course without lessons names no Lesson type yet: added lessons must still refresh it.
  const context = useMemo(() => ({ additionalTypenames: ["Lesson", "Course"] }), []);
  const [result] = useQuery({ query: CourseEditorDocument, variables: { id }, context });
  const node = result.data?.node;
  const course = node && "title" in node ? (node as EditedCourse) : null;
  return (
    <section>
      <PageHeader title={course?.title ?? t("courses.title")}>
        <Link href="/creator/courses">{t("courses.mine")}</Link>
      </PageHeader>
      <QueryState fetching={result.fetching} error={result.error} hasData={!!course} />
      {course && (
        <>
          <StatusBar course={course} />
          <div className="columns">
            <CourseFields key={course.id} course={course} />
            <div className="panel">
              <h2>{t("courses.lessons")}</h2>
              <Lessons course={course} />
              <NewLessonForm courseId={course.id} />
            </div>
          </div>
        </>
      )}
    </section>
  );
}

/** The course's status with publish and archive. */
function StatusBar(props: { course: EditedCourse }) {
  const t = useT();
  const { course } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [publishing, publish] = useMutation(PublishCourseDocument);
  const [archiving, archive] = useMutation(ArchiveCourseDocument);
  return (
    <div className="status-bar" data-testid="course-status">
      <CourseStatusBadge status={course.status} />
      {course.suspendedAt && <Badge tone="bad">{t("courses.suspended")}</Badge>}
      {course.status !== "PUBLISHED" && (
        <button
          type="button"
          className="primary"
          disabled={publishing.fetching}
          onClick={async () => setErrors((await publish({ course: course.id })).data?.publishCourse.userErrors ?? [])}
        >
          {t("courses.publish")}
        </button>
      )}
      {course.status === "PUBLISHED" && (
        <button
          type="button"
          disabled={archiving.fetching}
          onClick={async () => setErrors((await archive({ course: course.id })).data?.archiveCourse.userErrors ?? [])}
        >
          {t("courses.archive")}
        </button>
      )}
      <FormErrors errors={errors} />
    </div>
  );
}

const COURSE_FIELDS = ["title", "subtitle", "category", "priceFen", "coverUrl", "description"] as const;

/** The course's own fields, saved together. */
function CourseFields(props: { course: EditedCourse }) {
  const t = useT();
  const { course } = props;
  const [values, setValues] = useState({
    title: course.title,
    subtitle: course.subtitle ?? "",
    category: course.category,
    priceFen: fenToYuan(course.price.amount),
    coverUrl: course.coverUrl ?? "",
    description: course.description ?? "",
  });
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [saved, setSaved] = useState(false);
  const [state, save] = useMutation(UpdateCourseDocument);
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) => {
    setSaved(false);
    setValues((old) => ({ ...old, [name]: event.target.value }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const priceFen = yuanToFen(values.priceFen);
    if (priceFen === null) return setErrors([{ field: ["input", "priceFen"], message: t("orders.badAmount") }]);
    const result = await save({
      input: {
        course: course.id,
        title: values.title,
        subtitle: values.subtitle,
        category: values.category,
        priceFen,
        coverUrl: values.coverUrl,
        description: values.description,
      },
    });
    const userErrors = result.data?.updateCourse.userErrors ?? [];
    setErrors(userErrors);
    setSaved(!result.error && userErrors.length === 0);
  }

  return (
    <form className="panel form-grid" onSubmit={submit}>
      <Field label={t("courses.name")} error={errorFor(errors, "title")} wide>
        <input name="title" value={values.title} onChange={set("title")} />
      </Field>
      <Field label={t("courses.subtitle")} error={errorFor(errors, "subtitle")} wide>
        <input name="subtitle" value={values.subtitle} onChange={set("subtitle")} />
      </Field>
      <Field label={t("courses.category")} error={errorFor(errors, "category")}>
        <input name="category" value={values.category} onChange={set("category")} />
      </Field>
      <Field label={t("courses.priceYuan")} error={errorFor(errors, "priceFen")}>
        <input name="price" inputMode="decimal" value={values.priceFen} onChange={set("priceFen")} />
      </Field>
      <Field label={t("courses.cover")} error={errorFor(errors, "coverUrl")} wide>
        <input name="coverUrl" value={values.coverUrl} onChange={set("coverUrl")} />
      </Field>
      <Field label={t("courses.description")} error={errorFor(errors, "description")} wide>
        <textarea name="description" rows={5} value={values.description} onChange={set("description")} />
      </Field>
      <FormErrors errors={formErrors(errors, COURSE_FIELDS)} />
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("app.save")}
        </button>
        {saved && <span className="muted">{t("app.done")}</span>}
      </div>
    </form>
  );
}

/** The lessons in order, each movable up or down, or deleted. */
function Lessons(props: { course: EditedCourse }) {
  const t = useT();
  const { course } = props;
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [reordering, reorder] = useMutation(ReorderLessonsDocument);
  const [deleting, remove] = useMutation(DeleteLessonDocument);
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
          <li key={lesson.id}>
            <span>
              {lesson.title} · {t(`lesson.${lesson.kind}`)} · {Math.round(lesson.durationSeconds / 60)}′
              {lesson.freePreview && ` · ${t("courses.freePreview")}`}
            </span>
            <span className="row-actions">
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
                onClick={async () => setErrors((await remove({ lesson: lesson.id })).data?.deleteLesson.userErrors ?? [])}
              >
                {t("courses.deleteLesson")}
              </button>
            </span>
          </li>
        ))}
      </ol>
      <FormErrors errors={errors} />
    </>
  );
}

const LESSON_KINDS: LessonKind[] = ["VIDEO", "AUDIO", "ARTICLE"];
const LESSON_FIELDS = ["title", "kind", "content", "durationSeconds", "freePreview"] as const;

/** Appends a lesson. */
function NewLessonForm(props: { courseId: string }) {
  const t = useT();
  const blank = { title: "", kind: "VIDEO" as LessonKind, content: "", duration: "", freePreview: false };
  const [values, setValues] = useState(blank);
  const [errors, setErrors] = useState<readonly ApiUserError[]>([]);
  const [state, add] = useMutation(AddLessonDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const durationSeconds = /^\d+$/.test(values.duration.trim()) ? Number(values.duration) : -1;
    const result = await add({
      input: {
        course: props.courseId,
        title: values.title,
        kind: values.kind,
        content: values.content || null,
        durationSeconds,
        freePreview: values.freePreview,
      },
    });
    const payload = result.data?.addLesson;
    setErrors(payload?.userErrors ?? []);
    if (payload?.lesson) setValues(blank);
  }

  return (
    <form className="form-grid" onSubmit={submit} data-testid="new-lesson">
      <h3 className="wide">{t("courses.addLesson")}</h3>
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
        <input name="lessonContent" value={values.content} onChange={(e) => setValues({ ...values, content: e.target.value })} />
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
        <button type="submit" className="primary" disabled={state.fetching}>
          {t("courses.addLesson")}
        </button>
      </div>
    </form>
  );
}
