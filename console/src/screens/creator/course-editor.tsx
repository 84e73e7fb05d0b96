// One of the creator's courses: its fields, its lessons (add, move, delete) and the
// publish and archive actions. Every userError shows beside the field it names.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Link, useParams } from "wouter";
import {
  ArchiveCourseDocument,
  CourseEditorDocument,
  PublishCourseDocument,
  UpdateCourseDocument,
  type LessonKind,
} from "../../gql/graphql";
import { fenToYuan, yuanToFen } from "../../lib/format";
import { useT } from "../../lib/i18n";
import { Badge, errorFor, Field, FormErrors, formErrors, PageHeader, QueryState, type ApiUserError } from "../../ui/kit";
import { CourseStatusBadge } from "../../ui/status";
import { Lessons, NewLessonForm } from "./lessons";

/** The course as the editor query returns it. */
export interface EditedCourse {
  id: string;
  title: string;
  subtitle?: string | null;
  category: string;
  description?: string | null;
  coverUrl?: string | null;
  status: "DRAFT" | "PUBLISHED" | "ARCHIVED";
  suspendedAt?: string | null;
  price: { amount: number; formatted: string };
  lessons: {
    id: string;
    position: number;
    title: string;
    kind: LessonKind;
    content?: string | null;
    durationSeconds: number;
    freePreview: boolean;
  }[];
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
